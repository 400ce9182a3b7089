"""In-memory event log specifics the contract suite does not cover: its switch and its reads."""

from __future__ import annotations

import pytest

from parley.adapters.memory import InMemoryEventLog, partition_of
from parley.domain.conversations import ConversationType
from parley.domain.events import Event, MessageSent, TextContent
from parley.domain.log_streams import Stream
from parley.ports import EventLogUnavailable


def _sent(key: str, n: int) -> Event:
    return Event(
        f"e{n}", key, ConversationType.GROUP, "alice", n, MessageSent(f"m{n}", TextContent("hi"))
    )


def test_memory_event_log__partition_of_is_stable_and_in_range() -> None:
    assert partition_of("g:team", 6) == partition_of("g:team", 6)
    assert {partition_of(f"g:{i}", 6) for i in range(100)} == set(range(6))


async def test_memory_event_log__switched_off_log_writes_nothing() -> None:
    log = InMemoryEventLog(partitions=2)
    await log.append(_sent("g:a", 0))
    log.available = False
    with pytest.raises(EventLogUnavailable):
        await log.append_many([_sent("g:a", 1), _sent("g:b", 1)])
    log.available = True
    assert [r.event for r in log.records(Stream.CONVERSATION_EVENTS.value)] == [_sent("g:a", 0)]
    position = await log.append(_sent("g:a", 2))
    assert position.offset == 1  # the failed append left no gap


async def test_memory_event_log__append_many_to_a_missing_topic_writes_nothing() -> None:
    log = InMemoryEventLog(partitions=2)
    with pytest.raises(EventLogUnavailable, match="no such topic"):
        await log.append_many([_sent("g:a", 0)], topic="nowhere")
    assert log.records(Stream.CONVERSATION_EVENTS.value, "nowhere") == []
