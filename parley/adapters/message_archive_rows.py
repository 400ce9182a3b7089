"""messages_by_id rows, Cassandra's or the in-memory store's, as the ArchivedMessage rules read."""

from __future__ import annotations

from typing import Any

from parley.domain.message_archive import ArchivedMessage


def from_row(row: Any) -> ArchivedMessage:
    """A Cassandra row or a MessageByIdRow: the same columns; those Cassandra left unset (None)
    read as false or empty."""
    return ArchivedMessage(
        row.message_id,
        row.conversation_key,
        row.seq,
        row.sender_id,
        row.sent_at_ms,
        row.order_key,
        bool(row.masked),
        bool(row.recalled),
        bytes(row.content_digest or b""),
        row.fingerprint or "",
    )
