"""Reads behind the query API: Cassandra rows back into read-model values (from_row)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from cassandra.cluster import Session

from parley.adapters.cassandra import Statements
from parley.adapters.wire import content_from_proto
from parley.domain.conversations import ConversationType
from parley.domain.events import MessageType, Priority
from parley.domain.read_models import (
    MAX_CONVERSATIONS,
    MAX_MENTION_ALL,
    PROJECTOR_NAME,
    HeadRow,
    HistoryRow,
    MentionAllRow,
    MentionRow,
    ReaderRow,
    UserConversationRow,
)
from parley.gen.parley.v1 import common_pb2

_CQL = {
    "newest": "SELECT * FROM messages_by_conversation WHERE conversation_key = ? "
    "AND seq >= ? AND seq <= ? ORDER BY seq DESC LIMIT ?",
    "oldest": "SELECT * FROM messages_by_conversation WHERE conversation_key = ? "
    "AND seq >= ? AND seq <= ? ORDER BY seq ASC LIMIT ?",
    "by_seq": "SELECT * FROM messages_by_conversation WHERE conversation_key = ? AND seq = ?",
    "seq_of": "SELECT conversation_key, seq FROM messages_by_id WHERE message_id = ?",
    "head": "SELECT * FROM conversation_heads WHERE conversation_key = ?",
    "user_rows": f"SELECT * FROM conversations_by_user WHERE user_id = ? LIMIT {MAX_CONVERSATIONS}",
    "user_row": "SELECT * FROM conversations_by_user WHERE user_id = ? AND conversation_key = ?",
    "mentions": "SELECT * FROM mentions_by_user WHERE user_id = ?",
    "mentions_in": "SELECT * FROM mentions_by_user WHERE user_id = ? AND conversation_key = ?",
    "mention_all": "SELECT * FROM mention_all_by_conversation WHERE conversation_key = ? "
    f"AND seq > ? LIMIT {MAX_MENTION_ALL}",
    "readers": "SELECT * FROM readers_by_message WHERE conversation_key = ? AND seq = ?",
    "positions": "SELECT topic, partition, applied_offset FROM projection_positions "
    "WHERE projector = ?",
}


def applied_offsets(
    session: Session, topic: str, projector: str = PROJECTOR_NAME
) -> dict[int, int]:
    """Blocking: {partition: offset of the last event `projector` applied} in `topic`."""
    rows = session.execute(session.prepare(_CQL["positions"]), (projector,))
    return {r.partition: r.applied_offset for r in rows if r.topic == topic}


def history_from_row(r: Any) -> HistoryRow:
    content = None
    if r.body is not None:
        body = common_pb2.MessageBody()
        body.ParseFromString(r.body)
        content = content_from_proto(body)
    return HistoryRow(
        r.conversation_key, r.seq, r.message_id, r.sender_id, r.sent_at_ms,
        MessageType(r.message_type), content, tuple(r.mentioned_user_ids or ()),
        bool(r.mention_all), Priority(r.priority), r.reply_to_message_id or "",
        tuple(sorted((r.ext or {}).items())), bool(r.receipt_requested), bool(r.masked),
        r.event_offset, bool(r.recalled), r.recalled_by or "", r.recalled_at_ms or 0,
    )  # fmt: skip


def head_from_row(r: Any) -> HeadRow:
    return HeadRow(
        r.conversation_key, ConversationType(r.conversation_type), r.last_seq,
        r.last_message_id or "", r.last_sender_id or "", r.last_message_type or 0,
        r.last_preview or "", bool(r.last_recalled), r.last_activity_ms, bool(r.dismissed),
        r.event_offset, r.title or "",
    )  # fmt: skip


def user_from_row(r: Any) -> UserConversationRow:
    return UserConversationRow(
        r.user_id, r.conversation_key, ConversationType(r.conversation_type), r.read_seq,
        r.delivered_seq, r.joined_seq, r.until_seq, r.hidden_through_seq,
        r.cleared_through_seq, r.event_offset,
    )  # fmt: skip


class CassandraReadModelQueries:
    """Read-only access to the read models; every query is bounded (LIMIT or one row)."""

    def __init__(self, session: Session) -> None:
        self._cql = Statements(session, _CQL)

    async def history(
        self, key: str, lowest: int, highest: int, limit: int, newest_first: bool
    ) -> list[HistoryRow]:
        if highest < lowest:
            return []
        query = "newest" if newest_first else "oldest"
        rows = await self._cql.rows(query, key, lowest, highest, limit)
        return [history_from_row(r) for r in rows]

    async def message(self, key: str, seq: int) -> HistoryRow | None:
        rows = await self._cql.rows("by_seq", key, seq)
        return history_from_row(rows[0]) if rows else None

    async def seq_of(self, key: str, message_id: str) -> int | None:
        rows = await self._cql.rows("seq_of", message_id)
        return int(rows[0].seq) if rows and rows[0].conversation_key == key else None

    async def head(self, key: str) -> HeadRow | None:
        rows = await self._cql.rows("head", key)
        return head_from_row(rows[0]) if rows else None

    async def heads(self, keys: Iterable[str]) -> dict[str, HeadRow]:
        found = await asyncio.gather(*(self.head(key) for key in keys))
        return {head.conversation_key: head for head in found if head is not None}

    async def user_rows(self, user_id: str) -> list[UserConversationRow]:
        return [user_from_row(r) for r in await self._cql.rows("user_rows", user_id)]

    async def user_row(self, user_id: str, key: str) -> UserConversationRow | None:
        rows = await self._cql.rows("user_row", user_id, key)
        return user_from_row(rows[0]) if rows else None

    async def mentions(self, user_id: str, key: str | None = None) -> list[MentionRow]:
        rows = await (
            self._cql.rows("mentions", user_id)
            if key is None
            else self._cql.rows("mentions_in", user_id, key)
        )
        return [
            MentionRow(
                r.user_id, r.conversation_key, r.seq, r.message_id, r.sender_id, r.event_offset
            )
            for r in rows
        ]

    async def mention_all(self, key: str, after_seq: int) -> list[MentionAllRow]:
        rows = await self._cql.rows("mention_all", key, after_seq)
        return [
            MentionAllRow(r.conversation_key, r.seq, r.message_id, r.sender_id, r.event_offset)
            for r in rows
        ]

    async def applied_offsets(self, projector: str, topic: str) -> dict[int, int]:
        """{partition: offset of the last event the projector applied} in `topic`."""
        rows = await self._cql.rows("positions", projector)
        return {r.partition: r.applied_offset for r in rows if r.topic == topic}

    async def readers(self, key: str, seq: int) -> list[ReaderRow]:
        rows = await self._cql.rows("readers", key, seq)
        return [
            ReaderRow(r.conversation_key, r.seq, r.reader_id, r.read_at_ms, r.event_offset)
            for r in rows
        ]
