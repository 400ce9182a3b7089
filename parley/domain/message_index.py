"""The message index: which conversation and sender each recent message has, for recall, acks
and forwards within the fold's time window."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import Any

from parley.domain.events import Event, MessageRecalled, MessageSent
from parley.domain.fold_windows import DEFAULT_WINDOWS, SAFETY_MAX_ENTRIES
from parley.domain.log_streams import is_stored
from parley.domain.message_ids import content_digest


@dataclass(frozen=True)
class MessageRecord:
    message_id: str
    conversation_key: str
    sender: str
    sent_at_ms: int
    recalled: bool = False
    content_digest: bytes = b""  # message_ids.content_digest of what was stored


class MessageIndex:
    """message_id -> MessageRecord for the stored messages sent within `window_ms` of server
    time before the newest event it has seen (FoldWindows.messages_ms); older messages are
    looked up in the message archive by the servicers, which pass what they find to the rules.

    Command and barrage messages are never stored, so they are not indexed: nothing can recall
    or acknowledge them. Applying is idempotent: a redelivered MessageSent keeps the record it
    finds (so it never un-recalls a message), and recalling twice leaves it recalled. A message
    behind the window is never added, so a redelivered old send cannot come back un-recalled.
    `max_entries` is a safety bound (oldest first), not the rule.
    """

    def __init__(
        self, window_ms: int = DEFAULT_WINDOWS.messages_ms, max_entries: int = SAFETY_MAX_ENTRIES
    ) -> None:
        if window_ms < 1 or max_entries < 1:
            raise ValueError("window_ms and max_entries must be positive")
        self._window_ms = window_ms
        self._max_entries = max_entries
        self._records: OrderedDict[str, MessageRecord] = OrderedDict()
        self._newest_ms = 0  # the newest server time of any event applied

    def __len__(self) -> int:
        return len(self._records)

    def to_document(self) -> dict[str, Any]:
        """The records within the window as plain JSON values, by send time then id: the same
        bytes whatever the interleaving of partitions the records arrived in (the newest
        server time, hence the window, is the same; restored, the order is the pruning
        order)."""
        return {
            "newest_ms": self._newest_ms,
            "records": [
                [r.message_id, r.conversation_key, r.sender, r.sent_at_ms, r.recalled,
                 r.content_digest.hex()]
                for r in self._kept()
            ],
        }  # fmt: skip

    def restore(self, document: dict[str, Any]) -> None:
        """Replaces the records with those of a to_document value (within this index's
        bounds, which may be narrower than the writer's)."""
        self._newest_ms = document["newest_ms"]
        self._records = OrderedDict(
            (message_id, MessageRecord(message_id, key, sender, sent_at_ms, recalled,
                                       bytes.fromhex(digest)))
            for message_id, key, sender, sent_at_ms, recalled, digest in document["records"]
        )  # fmt: skip
        self._records = OrderedDict((r.message_id, r) for r in self._kept())

    def get(self, message_id: str) -> MessageRecord | None:
        return self._records.get(message_id)

    def apply(self, event: Event) -> None:
        self._newest_ms = max(self._newest_ms, event.server_time_ms)
        payload = event.payload
        if isinstance(payload, MessageSent):
            if (
                is_stored(event)
                and payload.message_id not in self._records
                and event.server_time_ms >= self._horizon()
            ):
                self._add(
                    MessageRecord(
                        payload.message_id,
                        event.conversation_key,
                        event.actor,
                        event.server_time_ms,
                        content_digest=content_digest(payload.content),
                    )
                )
        elif isinstance(payload, MessageRecalled):
            record = self._records.get(payload.message_id)
            if record is not None and record.conversation_key == event.conversation_key:
                self._records[payload.message_id] = replace(record, recalled=True)

    def _horizon(self) -> int:
        return self._newest_ms - self._window_ms

    def _kept(self) -> list[MessageRecord]:
        """What the bounds keep, whatever order the records came in: those within the window,
        the newest `max_entries` of them."""
        horizon = self._horizon()
        records = sorted(
            (r for r in self._records.values() if r.sent_at_ms >= horizon),
            key=lambda r: (r.sent_at_ms, r.message_id),
        )
        return records[-self._max_entries :]

    def _add(self, record: MessageRecord) -> None:
        self._records[record.message_id] = record
        # Insertion order is close to server-time order (ingress clocks agree to far less than
        # the window), so pruning from the front is enough; to_document filters exactly.
        horizon = self._horizon()
        while self._records:
            oldest = next(iter(self._records.values()))
            if len(self._records) <= self._max_entries and oldest.sent_at_ms >= horizon:
                return
            del self._records[oldest.message_id]
