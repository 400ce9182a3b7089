"""The projector's Cassandra store: row writes, per-conversation states and applied positions."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Mapping
from typing import Any

from cassandra.cluster import Session
from cassandra.query import BatchStatement, BatchType

from parley.adapters.cassandra import execute, execute_all
from parley.adapters.cassandra_media_archive import (
    MEDIA_ROWS,
    WRITES_CQL,
    bind_media,
    lookup_carried,
)
from parley.adapters.wire import content_to_proto
from parley.domain import projection_state, read_models
from parley.domain.projection_state import ConversationState, MessageRef
from parley.domain.read_models import RowWrite

BATCH_ROWS = 100  # statements per unlogged batch, all owned by one replica
BATCH_BYTES = 40_000  # under Cassandra's batch_size_fail_threshold (50 KiB)
ROW_OVERHEAD_BYTES = 120  # rough size of a row's keys and small columns

_CQL: dict[str, str] = {
    "history": "INSERT INTO messages_by_conversation (conversation_key, seq, message_id, "
    "sender_id, sent_at_ms, message_type, body, mentioned_user_ids, mention_all, priority, "
    "reply_to_message_id, ext, receipt_requested, masked, recalled, recalled_by, recalled_at_ms, "
    "event_offset) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    "recall": "UPDATE messages_by_conversation SET body = null, recalled = true, recalled_by = ?, "
    "recalled_at_ms = ?, event_offset = ? WHERE conversation_key = ? AND seq = ?",
    "message_by_id": "INSERT INTO messages_by_id (message_id, conversation_key, seq, sender_id, "
    "sent_at_ms, order_key, masked, recalled, content_digest, fingerprint, receipt_requested, "
    "event_offset) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    "recall_by_id": "UPDATE messages_by_id SET recalled = true, event_offset = ? "
    "WHERE message_id = ?",
    "head": "INSERT INTO conversation_heads (conversation_key, conversation_type, last_seq, "
    "last_message_id, last_sender_id, last_message_type, last_preview, last_recalled, "
    "last_activity_ms, dismissed, event_offset, title) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    "user": "INSERT INTO conversations_by_user (user_id, conversation_key, conversation_type, "
    "read_seq, delivered_seq, joined_seq, until_seq, hidden_through_seq, cleared_through_seq, "
    "event_offset) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    "mention": "INSERT INTO mentions_by_user (user_id, conversation_key, seq, message_id, "
    "sender_id, event_offset) VALUES (?, ?, ?, ?, ?, ?)",
    "unmention": "DELETE FROM mentions_by_user WHERE user_id = ? AND conversation_key = ? "
    "AND seq = ?",
    "mention_all": "INSERT INTO mention_all_by_conversation (conversation_key, seq, message_id, "
    "sender_id, event_offset) VALUES (?, ?, ?, ?, ?)",
    "unmention_all": "DELETE FROM mention_all_by_conversation WHERE conversation_key = ? "
    "AND seq = ?",
    "reader": "INSERT INTO readers_by_message (conversation_key, seq, reader_id, read_at_ms, "
    "event_offset) VALUES (?, ?, ?, ?, ?)",
    "erase_history": "DELETE FROM messages_by_conversation WHERE conversation_key = ?",
    "save_state": "INSERT INTO projection_state_by_conversation (conversation_key, "
    "kafka_partition, applied_offset, state) VALUES (?, ?, ?, ?)",
    "load_state": "SELECT state FROM projection_state_by_conversation WHERE conversation_key = ?",
    "recent": "SELECT seq, message_id, sender_id, receipt_requested, sent_at_ms "
    "FROM messages_by_conversation "
    "WHERE conversation_key = ? AND seq <= ? LIMIT ?",
    "ref": "SELECT conversation_key, seq, sender_id, receipt_requested FROM messages_by_id "
    "WHERE message_id = ?",
    "position": "INSERT INTO projection_positions (projector, topic, partition, applied_offset, "
    "updated_at) VALUES (?, ?, ?, ?, ?)",
    "positions": "SELECT topic, partition, applied_offset FROM projection_positions "
    "WHERE projector = ?",
}


def body_of(row: read_models.HistoryRow) -> bytes | None:
    if row.content is None:
        return None
    return content_to_proto(row.content).SerializeToString(deterministic=True)


def bind(write: RowWrite) -> list[tuple[str, tuple[Any, ...], tuple[Any, ...]]]:
    """(statement name, values, Cassandra partition) for one row write."""
    w = write
    if isinstance(w, MEDIA_ROWS):
        return bind_media(w)
    if isinstance(w, read_models.HistoryRow):
        values: tuple[Any, ...] = (
            w.conversation_key, w.seq, w.message_id, w.sender_id, w.sent_at_ms,
            int(w.message_type), body_of(w), list(w.mentioned_user_ids), w.mention_all,
            int(w.priority), w.reply_to_message_id, dict(w.ext), w.receipt_requested, w.masked,
            w.recalled, w.recalled_by, w.recalled_at_ms, w.event_offset,
        )  # fmt: skip
        return [("history", values, ("history", w.conversation_key))]
    if isinstance(w, read_models.HistoryRecalled):
        values = (w.recalled_by, w.recalled_at_ms, w.event_offset, w.conversation_key, w.seq)
        return [("recall", values, ("history", w.conversation_key))]
    if isinstance(w, read_models.MessageByIdRow):
        values = (
            w.message_id, w.conversation_key, w.seq, w.sender_id, w.sent_at_ms, w.order_key,
            w.masked, w.recalled, w.content_digest, w.fingerprint, w.receipt_requested,
            w.event_offset,
        )  # fmt: skip
        return [("message_by_id", values, ("message_by_id", w.message_id))]
    if isinstance(w, read_models.MessageByIdRecalled):
        values = (w.event_offset, w.message_id)
        return [("recall_by_id", values, ("message_by_id", w.message_id))]
    if isinstance(w, read_models.HeadRow):
        values = (
            w.conversation_key, int(w.conversation_type), w.last_seq, w.last_message_id,
            w.last_sender_id, w.last_message_type, w.last_preview, w.last_recalled,
            w.last_activity_ms, w.dismissed, w.event_offset, w.title,
        )  # fmt: skip
        return [("head", values, ("head", w.conversation_key))]
    if isinstance(w, read_models.UserConversationRow):
        values = (
            w.user_id, w.conversation_key, int(w.conversation_type), w.read_seq,
            w.delivered_seq, w.joined_seq, w.until_seq, w.hidden_through_seq,
            w.cleared_through_seq, w.event_offset,
        )  # fmt: skip
        return [("user", values, ("user", w.user_id))]
    if isinstance(w, read_models.MentionRow):
        values = (w.user_id, w.conversation_key, w.seq, w.message_id, w.sender_id, w.event_offset)
        return [("mention", values, ("mention", w.user_id))]
    if isinstance(w, read_models.MentionDeleted):
        return [("unmention", (w.user_id, w.conversation_key, w.seq), ("mention", w.user_id))]
    if isinstance(w, read_models.MentionAllRow):
        values = (w.conversation_key, w.seq, w.message_id, w.sender_id, w.event_offset)
        return [("mention_all", values, ("mention_all", w.conversation_key))]
    if isinstance(w, read_models.MentionAllDeleted):
        key = w.conversation_key
        return [("unmention_all", (key, w.seq), ("mention_all", key))]
    if isinstance(w, read_models.ReaderRow):
        values = (w.conversation_key, w.seq, w.reader_id, w.read_at_ms, w.event_offset)
        return [("reader", values, ("reader", w.conversation_key, w.seq))]
    assert isinstance(w, read_models.HistoryErased)
    key = w.conversation_key
    return [("erase_history", (key,), ("history", key))]


class CassandraProjectionStore:
    """Writes what the reducer produced; every write is an absolute upsert or delete.

    Contract: `write_rows` and `save_states` return only when every row is written (or raise);
    rows go in unlogged batches grouped by owning replica, batches run concurrently with bounded
    concurrency. Idempotent: rewriting a batch changes nothing.
    """

    def __init__(self, session: Session) -> None:
        self._session = session
        statements = {**_CQL, **WRITES_CQL}
        self._prepared = {name: session.prepare(cql) for name, cql in statements.items()}
        self._metadata = session.cluster.metadata
        self._keyspace = session.keyspace

    async def write_rows(self, writes: Iterable[RowWrite]) -> None:
        await self._write(
            (self._prepared[name], values) for write in writes for name, values, _ in bind(write)
        )

    async def save_states(self, states: Iterable[ConversationState]) -> None:
        insert = self._prepared["save_state"]
        await self._write(
            (insert, (s.key, s.partition, s.applied_offset, projection_state.to_json(s)))
            for s in states
        )

    async def _write(self, statements: Iterable[tuple[Any, tuple[Any, ...]]]) -> None:
        """Packs statements into unlogged batches per owning replica (token-aware), so each
        batch is one request that its coordinator applies locally, then runs the batches with
        bounded concurrency. Within one call no two statements touch the same row (the fold
        coalesced them), so their order inside a batch does not matter."""
        groups: dict[Any, list[list[Any]]] = {}
        sizes: dict[Any, int] = {}
        for prepared, values in statements:
            bound = prepared.bind(values)
            owner = self._owner(bound.routing_key)
            size = ROW_OVERHEAD_BYTES + sum(len(v) for v in values if isinstance(v, (str, bytes)))
            batches = groups.setdefault(owner, [[]])
            if len(batches[-1]) >= BATCH_ROWS or sizes.get(owner, 0) + size > BATCH_BYTES:
                batches.append([])
                sizes[owner] = 0
            batches[-1].append(bound)
            sizes[owner] = sizes.get(owner, 0) + size
        await execute_all(
            self._session,
            (
                (self._as_request(batch), None)
                for owned in groups.values()
                for batch in owned
                if batch
            ),
        )

    def _owner(self, routing_key: bytes) -> Any:
        if len(self._metadata.all_hosts()) == 1:
            return None  # one node owns everything: skip hashing the key
        replicas = self._metadata.get_replicas(self._keyspace, routing_key)
        return replicas[0].address if replicas else None

    @staticmethod
    def _as_request(bound: list[Any]) -> Any:
        if len(bound) == 1:
            return bound[0]
        batch = BatchStatement(batch_type=BatchType.UNLOGGED)
        for statement in bound:
            batch.add(statement)
        return batch

    async def load_states(self, keys: Iterable[str]) -> dict[str, ConversationState]:
        found: dict[str, ConversationState] = {}

        async def load(key: str) -> None:
            rows = await execute(self._session, self._prepared["load_state"], (key,))
            if not rows:
                return
            state = projection_state.from_json(rows[0].state)
            if state.last_seq > 0:  # one page: LIMIT is under the driver's fetch size
                history = await execute(
                    self._session,
                    self._prepared["recent"],
                    (key, state.last_seq, projection_state.RECENT_MESSAGES),
                )
                projection_state.recent_from_history(
                    state,
                    (
                        (r.seq, r.message_id, r.sender_id, bool(r.receipt_requested), r.sent_at_ms)
                        for r in history
                    ),
                )
            found[key] = state

        await _gather(load(key) for key in keys)
        return found

    async def lookup_refs(self, wanted: Iterable[tuple[str, str]]) -> dict[str, MessageRef]:
        """message id -> ref for (conversation key, message id) pairs stored earlier."""
        found: dict[str, MessageRef] = {}

        async def look(key: str, message_id: str) -> None:
            rows = await execute(self._session, self._prepared["ref"], (message_id,))
            if rows and rows[0].conversation_key == key:
                found[message_id] = MessageRef(rows[0].seq, rows[0].sender_id,
                                               bool(rows[0].receipt_requested))  # fmt: skip

        await _gather(look(key, mid) for key, mid in wanted)
        return found

    async def lookup_carried(self, wanted: Iterable[tuple[str, str]]) -> dict[str, tuple[str, ...]]:
        """message id -> the objects it carried, for (conversation key, message id) pairs of
        media messages stored earlier (the media archive's rows)."""
        return await lookup_carried(self._session, self._prepared["media_carried"], wanted)

    async def save_positions(self, projector: str, topic: str, offsets: Mapping[int, int]) -> None:
        now = int(time.time() * 1000)
        insert = self._prepared["position"]
        await execute_all(
            self._session, ((insert, (projector, topic, p, o, now)) for p, o in offsets.items())
        )

    async def positions(self, projector: str, topic: str) -> dict[int, int]:
        """Applied offset per partition (the last event applied, not the next to read)."""
        rows = await execute(self._session, self._prepared["positions"], (projector,))
        return {row.partition: row.applied_offset for row in rows if row.topic == topic}


async def _gather(tasks: Iterable[Any]) -> None:
    gate = asyncio.Semaphore(64)

    async def bounded(task: Any) -> None:
        async with gate:
            await task

    await asyncio.gather(*(bounded(t) for t in tasks))
