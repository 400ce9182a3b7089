"""MessageArchive contract, run against the in-memory fake and against real Cassandra: what the
projector's messages_by_id rows answer."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from parley.adapters.cassandra_message_archive import CassandraMessageArchive
from parley.adapters.memory_message_archive import InMemoryMessageArchive
from parley.domain.message_archive import ArchivedMessage
from parley.domain.read_models import MessageByIdRecalled, MessageByIdRow, RowWrite
from parley.ports import MessageArchive
from tests.contracts.archives import Archive, archive_of

DIGEST = bytes(range(16))


@pytest.fixture(params=["memory", "cassandra"])
def subject(request: pytest.FixtureRequest) -> Archive[MessageArchive]:
    return archive_of(request, InMemoryMessageArchive, CassandraMessageArchive)


def message_id() -> str:
    return f"m_{uuid.uuid4().hex}"  # each test its own ids: one keyspace per module


def row(mid: str, seq: int = 3, offset: int = 41, **changes: Any) -> MessageByIdRow:
    values: dict[str, Any] = dict(
        message_id=mid, conversation_key="g:team", seq=seq, sender_id="alice",
        sent_at_ms=1_700_000_000_123, order_key=offset, masked=False, content_digest=DIGEST,
        fingerprint="f" * 32, receipt_requested=False, event_offset=offset,
    )  # fmt: skip
    return MessageByIdRow(**(values | changes))


async def test_message_archive__answers_each_stored_message_and_leaves_out_the_unknown(
    subject: Archive[MessageArchive],
) -> None:
    first, second, unknown = message_id(), message_id(), message_id()
    await subject.write([row(first), row(second, seq=4, offset=42, masked=True)])
    found = await subject.port.get_many([first, unknown, second, first])
    assert found == {
        first: ArchivedMessage(first, "g:team", 3, "alice", 1_700_000_000_123, 41, False,
                               False, DIGEST, "f" * 32),
        second: ArchivedMessage(second, "g:team", 4, "alice", 1_700_000_000_123, 42, True,
                                False, DIGEST, "f" * 32),
    }  # fmt: skip
    assert await subject.port.get_many([]) == {}
    assert await subject.port.get_many([unknown]) == {}


async def test_message_archive__a_recall_is_seen_and_keeps_the_send_s_receipt(
    subject: Archive[MessageArchive],
) -> None:
    mid = message_id()
    await subject.write([row(mid)])
    await subject.write([MessageByIdRecalled(mid, 57)])
    found = (await subject.port.get_many([mid]))[mid]
    assert found.recalled
    assert (found.order_key, found.seq, found.sender_id) == (41, 3, "alice")


async def test_message_archive__rewriting_the_same_rows_changes_nothing(
    subject: Archive[MessageArchive],
) -> None:
    mid = message_id()
    writes: list[RowWrite] = [row(mid), MessageByIdRecalled(mid, 57)]
    await subject.write(writes)
    once = await subject.port.get_many([mid])
    await subject.write(writes)  # at-least-once: the projector may write a batch again
    assert await subject.port.get_many([mid]) == once


async def test_message_archive__many_callers_at_once_each_get_their_own_answer(
    subject: Archive[MessageArchive],
) -> None:
    stored = [message_id() for _ in range(150)]
    await subject.write([row(mid, seq=n, offset=n) for n, mid in enumerate(stored)])
    asks = [[stored[n], stored[(n * 7) % 150], message_id()] for n in range(150)]
    # One caller gives up at once: the others' answers do not depend on it.
    abandoned = asyncio.ensure_future(subject.port.get_many(stored[:40]))
    abandoned.cancel()
    answers = await asyncio.gather(*(subject.port.get_many(ask) for ask in asks))
    for ask, answer in zip(asks, answers, strict=True):
        assert {m: a.seq for m, a in answer.items()} == {m: stored.index(m) for m in ask[:2]}


async def test_message_archive__a_recall_without_its_send_is_no_message(
    subject: Archive[MessageArchive],
) -> None:
    mid = message_id()
    await subject.write([MessageByIdRecalled(mid, 57)])  # Cassandra's UPDATE makes a row
    assert await subject.port.get_many([mid]) == {}
