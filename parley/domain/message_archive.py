"""Stored messages older than the in-memory window, as the message archive holds them, and how
the rules find a message in the index first and in what the caller read from the archive next."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from parley.domain.commands import SendReceipt
from parley.domain.message_index import MessageIndex, MessageRecord


@dataclass(frozen=True)
class ArchivedMessage:
    """A row of messages_by_id: what the rules need about a stored message of any age."""

    message_id: str
    conversation_key: str
    seq: int
    sender_id: str
    sent_at_ms: int  # server time of the send, ms since the Unix epoch
    order_key: int  # the send's Kafka offset: the order key its receipt gave
    masked: bool
    recalled: bool
    content_digest: bytes
    fingerprint: str

    @property
    def record(self) -> MessageRecord:
        """The message as the message index would hold it."""
        return MessageRecord(
            self.message_id,
            self.conversation_key,
            self.sender_id,
            self.sent_at_ms,
            self.recalled,
            self.content_digest,
        )

    @property
    def receipt(self) -> SendReceipt:
        """The answer its send was given (a retry of it is answered with it, `duplicate`)."""
        return SendReceipt(
            self.message_id,
            self.order_key,
            self.sent_at_ms,
            self.conversation_key,
            duplicate=True,
            masked=self.masked,
        )


# message id -> what the archive holds, for ids the caller found missing from the index.
ArchivedMessages = Mapping[str, ArchivedMessage]
NO_ARCHIVED_MESSAGES: ArchivedMessages = MappingProxyType({})


def find(
    messages: MessageIndex, archived: ArchivedMessages, message_id: str
) -> MessageRecord | None:
    """The message from the index (it sees a recall first), else from the archive."""
    record = messages.get(message_id)
    if record is not None:
        return record
    older = archived.get(message_id)
    return older.record if older is not None else None
