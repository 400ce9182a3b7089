"""The send ledger: the client message ids each sender used, and the receipts they were given."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from parley.domain.commands import SendReceipt
from parley.domain.fold_windows import IDEMPOTENCY_WINDOW_MS, SAFETY_MAX_ENTRIES


@dataclass(frozen=True)
class LedgerEntry:
    receipt: SendReceipt
    fingerprint: str


class SendLedger:
    """(sender, client message id) -> the first accepted send with that key.

    The FIRST entry for a key wins: if two concurrent retries both reached the log, the earlier
    one is the message everyone keeps, and a later duplicate append never replaces it.
    Bounded by the idempotency window (entries sent more than `window_ms` before the newest
    server time recorded are pruned; a client retries within minutes): a retry of a stored
    message after it is answered from the message archive, by the servicer. `max_entries` is
    a safety bound (oldest first), not the rule.
    """

    def __init__(
        self, window_ms: int = IDEMPOTENCY_WINDOW_MS, max_entries: int = SAFETY_MAX_ENTRIES
    ) -> None:
        if window_ms < 1 or max_entries < 1:
            raise ValueError("window_ms and max_entries must be positive")
        self._window_ms = window_ms
        self._max_entries = max_entries
        self._entries: OrderedDict[tuple[str, str], LedgerEntry] = OrderedDict()
        self._newest_ms = 0

    def __len__(self) -> int:
        return len(self._entries)

    def to_document(self) -> dict[str, Any]:
        """The entries as plain JSON values by send time, sender and id: the same bytes whatever
        the interleaving of partitions (restored, that is the pruning order)."""
        horizon = self._newest_ms - self._window_ms
        entries = sorted(
            (kv for kv in self._entries.items() if kv[1].receipt.server_time_ms >= horizon),
            key=lambda kv: (kv[1].receipt.server_time_ms, kv[0]),
        )[-self._max_entries :]  # what pruning keeps, whatever order the entries came in
        return {
            "newest_ms": self._newest_ms,
            "entries": [
                [sender, cmid, e.fingerprint, r.message_id, r.order_key, r.server_time_ms,
                 r.conversation_key, r.duplicate, r.masked]
                for (sender, cmid), e in entries
                for r in (e.receipt,)
            ],
        }  # fmt: skip

    def restore(self, document: dict[str, Any]) -> None:
        """Replaces the entries with those of a to_document value (within this ledger's
        bounds, which may be narrower than the writer's)."""
        self._entries.clear()
        self._newest_ms = document["newest_ms"]
        for sender, cmid, fingerprint, *receipt in document["entries"]:
            self._entries[(sender, cmid)] = LedgerEntry(SendReceipt(*receipt), fingerprint)
        self._prune()

    def lookup(self, sender: str, client_message_id: str) -> LedgerEntry | None:
        return self._entries.get((sender, client_message_id))

    def record(
        self, sender: str, client_message_id: str, fingerprint: str, receipt: SendReceipt
    ) -> LedgerEntry:
        """Remembers the send unless its key is known; returns the entry kept for the key."""
        key = (sender, client_message_id)
        kept = self._entries.get(key)
        if kept is not None:
            return kept
        entry = LedgerEntry(receipt, fingerprint)
        self._entries[key] = entry
        self._newest_ms = max(self._newest_ms, receipt.server_time_ms)
        self._prune()
        return entry

    def _prune(self) -> None:
        # Insertion order is close to server-time order (clocks of ingress nodes agree to within
        # far less than the window), so pruning from the front is enough.
        horizon = self._newest_ms - self._window_ms
        while self._entries:
            key, oldest = next(iter(self._entries.items()))
            if len(self._entries) <= self._max_entries and oldest.receipt.server_time_ms >= horizon:
                return
            del self._entries[key]
