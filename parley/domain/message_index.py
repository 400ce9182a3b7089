"""The message index: which conversation and sender each recent message has, for recall and acks."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import Any

from parley.domain.events import Event, MessageRecalled, MessageSent
from parley.domain.message_ids import content_digest
from parley.domain.streams import is_stored


@dataclass(frozen=True)
class MessageRecord:
    message_id: str
    conversation_key: str
    sender: str
    sent_at_ms: int
    recalled: bool = False
    content_digest: bytes = b""  # message_ids.content_digest of what was stored


class MessageIndex:
    """message_id -> MessageRecord for the newest `max_entries` stored messages.

    Command and barrage messages are never stored, so they are not indexed: nothing can recall
    or acknowledge them. Applying is idempotent: a redelivered MessageSent keeps the record it
    finds (so it never un-recalls a message), and recalling twice leaves it recalled.
    The oldest messages are evicted first; recalls and acks of them answer MESSAGE_NOT_FOUND,
    which only matters past the recall window anyway.
    """

    def __init__(self, max_entries: int = 1_000_000) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be positive")
        self._max_entries = max_entries
        self._records: OrderedDict[str, MessageRecord] = OrderedDict()

    def __len__(self) -> int:
        return len(self._records)

    def to_document(self) -> list[list[Any]]:
        """The records as plain JSON values, by send time then id: the same bytes whatever the
        interleaving of partitions the records arrived in (restored, that is the eviction
        order)."""
        records = sorted(self._records.values(), key=lambda r: (r.sent_at_ms, r.message_id))
        records = records[-self._max_entries :]  # the newest, whatever order they came in
        return [
            [r.message_id, r.conversation_key, r.sender, r.sent_at_ms, r.recalled,
             r.content_digest.hex()]
            for r in records
        ]  # fmt: skip

    def restore(self, document: list[list[Any]]) -> None:
        """Replaces the records with those of a to_document value."""
        self._records.clear()
        for message_id, key, sender, sent_at_ms, recalled, digest in document:
            self._records[message_id] = MessageRecord(
                message_id, key, sender, sent_at_ms, recalled, bytes.fromhex(digest)
            )

    def get(self, message_id: str) -> MessageRecord | None:
        return self._records.get(message_id)

    def apply(self, event: Event) -> None:
        payload = event.payload
        if isinstance(payload, MessageSent):
            if is_stored(event) and payload.message_id not in self._records:
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

    def _add(self, record: MessageRecord) -> None:
        self._records[record.message_id] = record
        while len(self._records) > self._max_entries:
            self._records.popitem(last=False)
