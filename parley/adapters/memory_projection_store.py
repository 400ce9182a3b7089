"""In-memory read models: row writes applied to dicts, the ProjectionStore and ReadModelQueries
over them, for tests of reducers, the projector and queries (contract suite beside Cassandra)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, replace
from typing import Any, TypeVar

from parley.domain.projection_state import (
    RECENT_MESSAGES,
    ConversationState,
    MessageRef,
    from_json,
    recent_from_history,
    to_json,
)
from parley.domain.read_models import (
    MAX_CONVERSATIONS,
    MAX_MENTION_ALL,
    HeadRow,
    HistoryErased,
    HistoryRecalled,
    HistoryRow,
    MediaAttachmentRecalled,
    MediaAttachmentRow,
    MentionAllDeleted,
    MentionAllRow,
    MentionDeleted,
    MentionRow,
    MessageByIdRecalled,
    MessageByIdRow,
    ReaderRow,
    RowWrite,
    UserConversationRow,
)

_Row = TypeVar("_Row")


class InMemoryReadModels:
    """Tables as {row key: row value}; applies writes with Cassandra's upsert semantics."""

    def __init__(self) -> None:
        self.rows: dict[tuple[Any, ...], RowWrite] = {}
        self.states: dict[str, str] = {}  # conversation key -> state JSON

    def apply(self, writes: Iterable[RowWrite]) -> None:
        for write in writes:
            if isinstance(write, HistoryErased):
                for key in [
                    k for k in self.rows if k[0] == "history" and k[1] == write.conversation_key
                ]:
                    del self.rows[key]
            elif isinstance(write, (MentionDeleted, MentionAllDeleted)):
                self.rows.pop(write.key, None)
            elif isinstance(write, HistoryRecalled):
                row = self.rows.get(write.key)
                if isinstance(row, HistoryRow):  # an UPDATE of an absent row: ignored here
                    self.rows[write.key] = write.applied_to(row)
            elif isinstance(write, (MediaAttachmentRow, MediaAttachmentRecalled)):
                self._attach(write)
            elif isinstance(write, MessageByIdRecalled):
                by_id = self.rows.get(write.key)
                if isinstance(by_id, MessageByIdRow):  # an UPDATE of an absent row: ignored
                    self.rows[write.key] = write.applied_to(by_id)
            else:
                self.rows[write.key] = write

    def _attach(self, write: MediaAttachmentRow | MediaAttachmentRecalled) -> None:
        """A recall is set, never unset: a message's row leaves the recalled column alone."""
        row = self.rows.get(write.key)
        if isinstance(write, MediaAttachmentRow):
            if isinstance(row, MediaAttachmentRow) and row.recalled:
                offset = max(write.recall_offset, row.recall_offset)
                write = replace(write, recalled=True, recall_offset=offset)
            self.rows[write.key] = write
        elif isinstance(row, MediaAttachmentRow):  # an UPDATE of an absent row: ignored here
            self.rows[write.key] = write.applied_to(row)

    def table(self, kind: str) -> dict[tuple[Any, ...], dict[str, Any]]:
        """Rows of one table as plain dicts, keyed by their row key."""
        return {k: asdict(v) for k, v in sorted(self.rows.items()) if k[0] == kind}

    def history_of(self, conversation_key: str) -> list[HistoryRow]:
        rows = (row for key, row in self.rows.items() if key[:2] == ("history", conversation_key))
        return [row for row in rows if isinstance(row, HistoryRow)]

    def snapshot(self) -> dict[tuple[Any, ...], dict[str, Any]]:
        return {k: asdict(v) for k, v in sorted(self.rows.items(), key=lambda kv: repr(kv[0]))}


class InMemoryProjectionStore:
    """ProjectionStore over InMemoryReadModels: what the projector writes, kept in dicts
    (states as their canonical JSON, as Cassandra keeps them), for engine-free tests."""

    def __init__(self, models: InMemoryReadModels | None = None) -> None:
        self.models = models if models is not None else InMemoryReadModels()
        self.applied: dict[tuple[str, str, int], int] = {}  # (projector, topic, partition)

    async def write_rows(self, writes: Iterable[RowWrite]) -> None:
        self.models.apply(writes)

    async def save_states(self, states: Iterable[ConversationState]) -> None:
        for state in states:
            self.models.states[state.key] = to_json(state)

    async def load_states(self, keys: Iterable[str]) -> dict[str, ConversationState]:
        found: dict[str, ConversationState] = {}
        for key in keys:
            if key not in self.models.states:
                continue
            state = found[key] = from_json(self.models.states[key])
            newest_first = sorted(self.models.history_of(key), key=lambda r: -r.seq)
            recent_from_history(
                state,
                ((r.seq, r.message_id, r.sender_id, r.receipt_requested, r.sent_at_ms)
                 for r in newest_first[:RECENT_MESSAGES]),
            )  # fmt: skip
        return found

    async def lookup_refs(self, wanted: Iterable[tuple[str, str]]) -> dict[str, MessageRef]:
        found: dict[str, MessageRef] = {}
        for key, message_id in wanted:
            row = self.models.rows.get(("message_by_id", message_id))
            if isinstance(row, MessageByIdRow) and row.conversation_key == key:
                found[message_id] = MessageRef(row.seq, row.sender_id, row.receipt_requested)
        return found

    async def lookup_carried(self, wanted: Iterable[tuple[str, str]]) -> dict[str, tuple[str, ...]]:
        attachments = [r for r in self.models.rows.values() if isinstance(r, MediaAttachmentRow)]
        found: dict[str, tuple[str, ...]] = {}
        for key, message_id in wanted:
            objects = sorted(
                r.object_id
                for r in attachments
                if (r.message_id, r.conversation_key) == (message_id, key)
            )
            if objects:
                found[message_id] = tuple(objects)
        return found

    async def save_positions(self, projector: str, topic: str, offsets: Mapping[int, int]) -> None:
        for partition, offset in offsets.items():
            self.applied[(projector, topic, partition)] = offset

    async def positions(self, projector: str, topic: str) -> dict[int, int]:
        return {
            p: o
            for (name, t, p), o in sorted(self.applied.items())
            if (name, t) == (projector, topic)
        }


class InMemoryReadModelQueries:
    """ReadModelQueries over an InMemoryProjectionStore: scans, ordered and bounded as the
    Cassandra tables' clustering columns and LIMITs order and bound them."""

    def __init__(self, store: InMemoryProjectionStore) -> None:
        self._store = store
        self._models = store.models

    def _rows(self, kind: type[_Row], *prefix: str) -> list[_Row]:
        return [
            row
            for key, row in sorted(self._models.rows.items())
            if isinstance(row, kind) and key[1 : 1 + len(prefix)] == prefix
        ]

    async def history(
        self, key: str, lowest: int, highest: int, limit: int, newest_first: bool
    ) -> list[HistoryRow]:
        rows = [r for r in self._models.history_of(key) if lowest <= r.seq <= highest]
        return sorted(rows, key=lambda r: r.seq, reverse=newest_first)[:limit]

    async def message(self, key: str, seq: int) -> HistoryRow | None:
        row = self._models.rows.get(("history", key, seq))
        return row if isinstance(row, HistoryRow) else None

    async def seq_of(self, key: str, message_id: str) -> int | None:
        row = self._models.rows.get(("message_by_id", message_id))
        return row.seq if isinstance(row, MessageByIdRow) and row.conversation_key == key else None

    async def head(self, key: str) -> HeadRow | None:
        row = self._models.rows.get(("head", key))
        return row if isinstance(row, HeadRow) else None

    async def heads(self, keys: Iterable[str]) -> dict[str, HeadRow]:
        found = [await self.head(key) for key in keys]
        return {head.conversation_key: head for head in found if head is not None}

    async def user_rows(self, user_id: str) -> list[UserConversationRow]:
        return self._rows(UserConversationRow, user_id)[:MAX_CONVERSATIONS]

    async def user_row(self, user_id: str, key: str) -> UserConversationRow | None:
        row = self._models.rows.get(("user_conversation", user_id, key))
        return row if isinstance(row, UserConversationRow) else None

    async def mentions(self, user_id: str, key: str | None = None) -> list[MentionRow]:
        prefix = (user_id,) if key is None else (user_id, key)
        return self._rows(MentionRow, *prefix)

    async def mention_all(self, key: str, after_seq: int) -> list[MentionAllRow]:
        rows = [r for r in self._rows(MentionAllRow, key) if r.seq > after_seq]
        return sorted(rows, key=lambda r: r.seq, reverse=True)[:MAX_MENTION_ALL]

    async def readers(self, key: str, seq: int) -> list[ReaderRow]:
        return [r for r in self._rows(ReaderRow, key) if r.seq == seq]

    async def applied_offsets(self, projector: str, topic: str) -> dict[int, int]:
        return await self._store.positions(projector, topic)
