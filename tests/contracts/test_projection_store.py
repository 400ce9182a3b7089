"""ProjectionStore and ReadModelQueries contract, run against the in-memory adapters and real
Cassandra: what the projector writes is what the queries read back."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace

import pytest

from parley.adapters.cassandra_projection_store import CassandraProjectionStore
from parley.adapters.cassandra_queries import CassandraReadModelQueries
from parley.adapters.memory_projection_store import (
    InMemoryProjectionStore,
    InMemoryReadModelQueries,
)
from parley.domain import read_models
from parley.domain.conversations import ConversationType
from parley.domain.events import MessageType, Priority, TextContent
from parley.domain.projection_state import MessageRef, new_state, to_json
from parley.domain.read_models import PROJECTOR_NAME
from parley.ports import ProjectionStore, ReadModelQueries
from streams.projector import Projector
from tests.unit.domain.projection_script import Script

SENT_MS = 1_700_000_000_000


@dataclass
class ReadModels:
    """The store the projector writes and the queries that read it back."""

    store: ProjectionStore
    queries: ReadModelQueries


@pytest.fixture(params=["memory", "cassandra"])
def subject(request: pytest.FixtureRequest) -> ReadModels:
    if request.param == "memory":
        memory = InMemoryProjectionStore()
        return ReadModels(memory, InMemoryReadModelQueries(memory))
    session = request.getfixturevalue("contract_session")
    return ReadModels(CassandraProjectionStore(session), CassandraReadModelQueries(session))


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"  # each test its own keys: one keyspace per module


def history(key: str, seq: int, **changes: object) -> read_models.HistoryRow:
    row = read_models.HistoryRow(
        key, seq, f"m{seq}_{key}", "alice", SENT_MS + seq, MessageType.TEXT,
        TextContent(f"text {seq}"), ("bob",), False, Priority.HIGH, "", (("k", "v"),),
        True, False, 100 + seq,
    )  # fmt: skip
    return replace(row, **changes)  # type: ignore[arg-type]


def by_id(key: str, seq: int, message_id: str) -> read_models.MessageByIdRow:
    return read_models.MessageByIdRow(
        message_id, key, seq, "alice", SENT_MS + seq, 100 + seq, False, bytes(16), "f" * 32,
        True, 100 + seq,
    )  # fmt: skip


async def test_projection_store__history_rows_read_back_in_order_bounded_and_by_seq(
    subject: ReadModels,
) -> None:
    key = unique("g:")
    rows = [history(key, seq) for seq in range(1, 6)]
    await subject.store.write_rows(rows)
    q = subject.queries
    assert await q.history(key, 2, 4, 10, newest_first=True) == rows[3:0:-1]
    assert await q.history(key, 1, 5, 2, newest_first=False) == rows[:2]
    assert await q.history(key, 4, 3, 10, newest_first=True) == []
    assert await q.message(key, 3) == rows[2]
    assert await q.message(key, 9) is None
    assert await q.history(unique("g:"), 1, 5, 10, newest_first=True) == []


async def test_projection_store__a_recall_withholds_content_and_keeps_the_rest(
    subject: ReadModels,
) -> None:
    key = unique("p:")
    row = history(key, 1)
    await subject.store.write_rows([row, by_id(key, 1, row.message_id)])
    await subject.store.write_rows(
        [
            read_models.HistoryRecalled(key, 1, "bob", SENT_MS + 60_000, 107),
            read_models.MessageByIdRecalled(row.message_id, 107),
        ]
    )
    recalled = replace(
        row, content=None, recalled=True, recalled_by="bob", recalled_at_ms=SENT_MS + 60_000,
        event_offset=107,
    )  # fmt: skip
    assert await subject.queries.message(key, 1) == recalled
    assert await subject.queries.seq_of(key, row.message_id) == 1


async def test_projection_store__heads_read_back_and_missing_ones_are_left_out(
    subject: ReadModels,
) -> None:
    key, absent = unique("g:"), unique("g:")
    head = read_models.HeadRow(
        key, ConversationType.GROUP, 7, "m7", "carol", int(MessageType.TEXT), "hello", False,
        SENT_MS, False, 42, "team",
    )  # fmt: skip
    await subject.store.write_rows([head])
    assert await subject.queries.head(key) == head
    assert await subject.queries.head(absent) is None
    assert await subject.queries.heads([key, absent]) == {key: head}
    moved = replace(head, last_seq=8, last_recalled=True, dismissed=True, event_offset=43)
    await subject.store.write_rows([moved])  # an absolute upsert replaces the whole row
    assert await subject.queries.head(key) == moved


async def test_projection_store__user_rows_read_back_by_conversation_key(
    subject: ReadModels,
) -> None:
    user = unique("u")
    keys = sorted(unique("g:") for _ in range(3))
    rows = [
        read_models.UserConversationRow(
            user, key, ConversationType.GROUP, n, n + 1, 0, -1, -1, 0, 50 + n
        )
        for n, key in enumerate(reversed(keys))
    ]
    await subject.store.write_rows(rows)
    assert await subject.queries.user_rows(user) == sorted(rows, key=lambda r: r.conversation_key)
    left = replace(rows[0], until_seq=9, read_seq=9, event_offset=77)
    await subject.store.write_rows([left])
    assert await subject.queries.user_row(user, rows[0].conversation_key) == left
    assert await subject.queries.user_row(user, unique("g:")) is None
    assert await subject.queries.user_rows(unique("u")) == []


async def test_projection_store__mentions_read_back_until_deleted(subject: ReadModels) -> None:
    user = unique("u")
    first, second = sorted(unique("g:") for _ in range(2))
    rows = [
        read_models.MentionRow(user, second, 4, "m4", "alice", 14),
        read_models.MentionRow(user, first, 9, "m9", "carol", 19),
        read_models.MentionRow(user, first, 2, "m2", "alice", 12),
    ]
    await subject.store.write_rows(rows)
    assert await subject.queries.mentions(user) == [rows[2], rows[1], rows[0]]
    await subject.store.write_rows([read_models.MentionDeleted(user, first, 2)])
    assert await subject.queries.mentions(user, first) == [rows[1]]
    assert await subject.queries.mentions(user) == [rows[1], rows[0]]


async def test_projection_store__mention_all_reads_newest_first_after_a_seq(
    subject: ReadModels,
) -> None:
    key = unique("g:")
    rows = [read_models.MentionAllRow(key, seq, f"m{seq}", "carol", 10 + seq) for seq in (2, 5, 8)]
    await subject.store.write_rows(rows)
    assert await subject.queries.mention_all(key, 2) == [rows[2], rows[1]]
    await subject.store.write_rows([read_models.MentionAllDeleted(key, 8)])
    assert await subject.queries.mention_all(key, 0) == [rows[1], rows[0]]


async def test_projection_store__readers_of_a_message_read_back_by_reader(
    subject: ReadModels,
) -> None:
    key = unique("g:")
    rows = [
        read_models.ReaderRow(key, 3, "dave", SENT_MS + 5, 31),
        read_models.ReaderRow(key, 3, "bob", SENT_MS + 9, 35),
        read_models.ReaderRow(key, 4, "bob", SENT_MS + 9, 35),
    ]
    await subject.store.write_rows(rows)
    assert await subject.queries.readers(key, 3) == [rows[1], rows[0]]
    assert await subject.queries.readers(key, 5) == []


async def test_projection_store__erasing_a_history_deletes_its_rows_only(
    subject: ReadModels,
) -> None:
    room, other = unique("r:"), unique("r:")
    await subject.store.write_rows([history(room, 1), history(room, 2), history(other, 1)])
    await subject.store.write_rows([read_models.HistoryErased(room)])
    assert await subject.queries.history(room, 1, 10, 10, newest_first=True) == []
    assert await subject.queries.history(other, 1, 10, 10, newest_first=True) == [history(other, 1)]


async def test_projection_store__states_load_as_saved_with_their_recent_window_rebuilt(
    subject: ReadModels,
) -> None:
    key = unique("g:")
    state = new_state(key, ConversationType.GROUP, partition=2)
    state.applied_offset, state.last_seq = 102, 2
    rows = [history(key, 1, sender_id="bob"), history(key, 2), history(key, 3)]
    for row in rows[:2]:
        state.remember(row.message_id, MessageRef(row.seq, row.sender_id, True, row.sent_at_ms))
    # Seq 3's row was stored by a batch whose state was not: it is not part of this state.
    await subject.store.write_rows(rows)
    await subject.store.save_states([state])
    loaded = await subject.store.load_states([key, unique("g:")])
    assert list(loaded) == [key]
    assert to_json(loaded[key]) == to_json(state)
    assert loaded[key].recent == state.recent


async def test_projection_store__positions_read_back_per_projector_and_topic(
    subject: ReadModels,
) -> None:
    topic, other = unique("conv"), unique("conv")
    await subject.store.save_positions(PROJECTOR_NAME, topic, {0: 10, 1: 4})
    await subject.store.save_positions(PROJECTOR_NAME, other, {0: 99})
    await subject.store.save_positions("elsewhere", topic, {0: 55})
    await subject.store.save_positions(PROJECTOR_NAME, topic, {1: 7})
    assert await subject.store.positions(PROJECTOR_NAME, topic) == {0: 10, 1: 7}
    assert await subject.queries.applied_offsets(PROJECTOR_NAME, topic) == {0: 10, 1: 7}
    assert await subject.store.positions(PROJECTOR_NAME, unique("conv")) == {}


async def test_projection_store__lookups_answer_stored_messages_of_their_conversation_only(
    subject: ReadModels,
) -> None:
    key, elsewhere = unique("r:"), unique("r:")
    mid, unknown = unique("m"), unique("m")
    await subject.store.write_rows(
        [
            by_id(key, 5, mid),
            read_models.MediaAttachmentRow("obj-b", mid, key, SENT_MS, 105),
            read_models.MediaAttachmentRow("obj-a", mid, key, SENT_MS, 105),
        ]
    )
    wanted = [(key, mid), (key, unknown)]
    assert await subject.store.lookup_refs(wanted) == {mid: MessageRef(5, "alice", True)}
    assert await subject.store.lookup_refs([(elsewhere, mid)]) == {}
    assert await subject.store.lookup_carried(wanted) == {mid: ("obj-a", "obj-b")}
    assert await subject.store.lookup_carried([(elsewhere, mid)]) == {}


async def test_projection_store__the_projector_s_batches_read_back_and_repeat_harmlessly(
    subject: ReadModels,
) -> None:
    """The reducer's own writes through the port: a peer chat, a recall and a read."""
    alice, bob, topic = unique("a"), unique("b"), unique("conv")
    key = f"p:{alice}:{bob}"
    script = Script()
    first = script.send(key, alice, "hi", message_id=unique("m"))
    script.send(key, bob, "hello", message_id=unique("m"))
    script.recall(key, alice, first, alice)
    script.read(key, bob)
    projector = Projector(subject.store, topic)
    await projector.apply(script.logged[:2])
    await projector.apply(script.logged[2:])
    q = subject.queries

    async def everything() -> tuple[
        list[read_models.HistoryRow],
        read_models.HeadRow | None,
        list[read_models.UserConversationRow],
        list[read_models.UserConversationRow],
        dict[int, int],
    ]:
        return (
            await q.history(key, 1, 10, 10, newest_first=False),
            await q.head(key),
            await q.user_rows(alice),
            await q.user_rows(bob),
            await q.applied_offsets(PROJECTOR_NAME, topic),
        )

    rows, head, alice_rows, bob_rows, applied = await everything()
    assert [(r.seq, r.recalled, r.content) for r in rows] == [
        (1, True, None),
        (2, False, TextContent("hello")),
    ]
    assert head is not None and (head.last_seq, head.last_sender_id) == (2, bob)
    assert [(r.read_seq, r.delivered_seq) for r in alice_rows] == [(1, 0)]  # her own send
    assert [r.read_seq for r in bob_rows] == [2]
    assert applied == {0: 3}
    # At-least-once: a fresh projector (a restart) applying the batch again changes nothing.
    before = await everything()
    await Projector(subject.store, topic).apply(script.logged)
    assert await everything() == before
