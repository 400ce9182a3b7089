"""The message archive on Cassandra: MessageArchive over messages_by_id (written by the
projector, infra/cassandra/0005_messages_by_id.cql)."""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from typing import Any

from cassandra.cluster import Session

from parley.adapters.cassandra import execute
from parley.domain.message_archive import ArchivedMessage

_GET = (
    "SELECT conversation_key, seq, sender_id, sent_at_ms, order_key, masked, recalled, "
    "content_digest, fingerprint FROM messages_by_id WHERE message_id = ?"
)


def from_row(message_id: str, row: Any) -> ArchivedMessage:
    return ArchivedMessage(
        message_id,
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


class CassandraMessageArchive:
    """One single-partition read per id, all at once (token-aware: straight to a replica)."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._get = session.prepare(_GET)

    async def get_many(self, message_ids: Collection[str]) -> dict[str, ArchivedMessage]:
        ids = list(dict.fromkeys(message_ids))
        found = await asyncio.gather(*(execute(self._session, self._get, (i,)) for i in ids))
        return {
            message_id: from_row(message_id, rows[0])
            for message_id, rows in zip(ids, found, strict=True)
            # A row made by a recall's UPDATE alone (its send never projected) is no message.
            if rows and rows[0].conversation_key is not None
        }
