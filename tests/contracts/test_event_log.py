"""EventLog and EventFeed contract, run against the in-memory fakes and against real Kafka."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Protocol

import pytest

from parley.adapters.kafka import KafkaEventFeed, KafkaEventLog
from parley.adapters.kafka_admin import delete_topics, ensure_topics
from parley.adapters.kafka_feed import IDLE_FETCH_WAIT_MS
from parley.adapters.memory import InMemoryEventFeed, InMemoryEventLog
from parley.domain.conversations import ConversationType
from parley.domain.events import CommandContent, Event, Logged, MessageSent, Position, TextContent
from parley.domain.log_streams import Stream
from parley.ports import EventLog, EventLogUnavailable

PARTITIONS = 3


class Feed(Protocol):
    async def start(self) -> None: ...
    async def wait_for(
        self, position: Position, timeout_s: float, topic: str | None = None
    ) -> None: ...
    async def wait_caught_up(self, timeout_s: float) -> None: ...
    async def catch_up(self, timeout_s: float) -> None: ...
    async def close(self) -> None: ...


class Collected:
    """A sink that records what it was handed, and on which thread."""

    def __init__(self) -> None:
        self.logged: list[Logged] = []
        self.threads: set[int] = set()

    def apply(self, logged: Logged) -> None:
        self.logged.append(logged)
        self.threads.add(threading.get_ident())

    def of(self, key: str) -> list[Event]:
        return [item.event for item in self.logged if item.event.conversation_key == key]


@dataclass
class Backend:
    kind: str
    log: EventLog
    topics: dict[Stream, str]
    bootstrap: str = ""
    memory: InMemoryEventLog | None = None
    feeds: list[Feed] = field(default_factory=list)

    async def feed(self, sink: Collected, stream: Stream = Stream.CONVERSATION_EVENTS) -> Feed:
        feed: Feed
        if self.memory is not None:
            feed = InMemoryEventFeed(self.memory, sink, [self.topics[stream]])
        else:
            feed = KafkaEventFeed(self.bootstrap, sink, [self.topics[stream]])
        self.feeds.append(feed)
        await feed.start()
        return feed

    async def caught_up_feed(self) -> tuple[Collected, Feed]:
        """A feed of conversation events into a new sink, once it has handed over the log."""
        sink = Collected()
        feed = await self.feed(sink)
        await feed.wait_caught_up(timeout_s=20)
        return sink, feed

    def unavailable_log(self) -> EventLog:
        if self.memory is not None:
            self.memory.available = False
            return self.memory
        return KafkaEventLog("127.0.0.1:1", self.topics)  # nothing listens on port 1


@pytest.fixture(params=["memory", "kafka"])
async def backend(request: pytest.FixtureRequest) -> AsyncIterator[Backend]:
    run = uuid.uuid4().hex[:8]
    topics = {stream: f"test.{stream.value}.{run}" for stream in Stream}
    if request.param == "memory":
        memory = InMemoryEventLog(PARTITIONS, topics)
        backend = Backend("memory", memory, topics, memory=memory)
    else:
        bootstrap: str = request.getfixturevalue("kafka_bootstrap")
        await asyncio.to_thread(
            ensure_topics, bootstrap, dict.fromkeys(topics.values(), PARTITIONS)
        )
        backend = Backend("kafka", KafkaEventLog(bootstrap, topics), topics, bootstrap=bootstrap)
    try:
        yield backend
    finally:
        for feed in backend.feeds:
            await feed.close()
        await backend.log.close()
        if backend.bootstrap:
            await asyncio.to_thread(delete_topics, backend.bootstrap, list(topics.values()))


def _sent(key: str, n: int, content: TextContent | CommandContent | None = None) -> Event:
    return Event(
        event_id=f"{key}-{n}",
        conversation_key=key,
        conversation_type=ConversationType.GROUP,
        actor="alice",
        server_time_ms=1_700_000_000_000 + n,
        payload=MessageSent(f"{key}-{n}", content or TextContent(f"message {n}")),
    )


KEYS = ["g:alpha", "g:beta", "g:gamma", "g:delta"]


async def test_event_log__offsets_grow_within_a_conversation(backend: Backend) -> None:
    positions: dict[str, list[Position]] = {key: [] for key in KEYS}
    for n in range(5):
        for key in KEYS:
            positions[key].append(await backend.log.append(_sent(key, n)))
    for key, got in positions.items():
        assert len({p.partition for p in got}) == 1, f"{key} spread over partitions: {got}"
        assert [p.offset for p in got] == sorted({p.offset for p in got}), got


async def test_event_log__feed_hands_over_each_conversation_in_order(backend: Backend) -> None:
    sink = Collected()
    feed = await backend.feed(sink)

    # Four conversations append concurrently; each appends in order.
    async def converse(key: str) -> list[Position]:
        return [await backend.log.append(_sent(key, n)) for n in range(8)]

    positions = await asyncio.gather(*(converse(key) for key in KEYS))
    for key, got in zip(KEYS, positions, strict=True):
        await feed.wait_for(got[-1], timeout_s=20)
        assert sink.of(key) == [_sent(key, n) for n in range(8)]
    handed = {item.event.event_id: item for item in sink.logged}
    for key, got in zip(KEYS, positions, strict=True):
        assert [handed[f"{key}-{n}"].position for n in range(8)] == got
    assert {item.topic for item in sink.logged} == {backend.topics[Stream.CONVERSATION_EVENTS]}
    assert sink.threads == {threading.get_ident()}, "the sink must run on the event loop thread"


async def test_event_log__wait_for_returns_only_after_the_position_was_handed_over(
    backend: Backend,
) -> None:
    sink = Collected()
    feed = await backend.feed(sink)
    position = await backend.log.append(_sent("g:solo", 0))
    await feed.wait_for(position, timeout_s=20)
    assert sink.of("g:solo") == [_sent("g:solo", 0)]
    with pytest.raises(TimeoutError):
        await feed.wait_for(Position(position.partition, position.offset + 1), timeout_s=0.5)


async def test_event_log__append_many_keeps_order_within_each_conversation(
    backend: Backend,
) -> None:
    events = [_sent(key, n) for n in range(6) for key in KEYS[:3]]
    positions = await backend.log.append_many(events)
    assert len(positions) == len(events)
    for key in KEYS[:3]:
        mine = [p for e, p in zip(events, positions, strict=True) if e.conversation_key == key]
        assert [p.offset for p in mine] == sorted({p.offset for p in mine})
    sink, _ = await backend.caught_up_feed()
    for key in KEYS[:3]:
        assert sink.of(key) == [_sent(key, n) for n in range(6)]


async def test_event_log__feed_started_late_catches_up_from_the_beginning(
    backend: Backend,
) -> None:
    before = [await backend.log.append(_sent(key, n)) for n in range(3) for key in KEYS]
    sink, feed = await backend.caught_up_feed()
    assert len(sink.logged) == len(before)
    after = await backend.log.append(_sent("g:alpha", 3))
    await feed.wait_for(after, timeout_s=20)
    assert sink.of("g:alpha") == [_sent("g:alpha", n) for n in range(4)]


async def test_event_log__a_caught_up_feed_hands_over_a_new_event_at_once(
    backend: Backend,
) -> None:
    """The broker may hold an idle feed's fetch for IDLE_FETCH_WAIT_MS; a record must end it."""
    _, feed = await backend.caught_up_feed()
    # The first record after the feed's assignment may still meet a fetch the broker holds for
    # its full wait (seen in 1 of 4 runs here: 0.50 s); once the feed has fetched a record, every
    # later one ends the held fetch at once. That first wait is the known cost of an idle fetch
    # wait of IDLE_FETCH_WAIT_MS (docs/performance.md); what is checked is the steady state.
    warm_up = await backend.log.append(_sent("g:idle", -1))
    await feed.wait_for(warm_up, timeout_s=20)
    latencies = []
    for n in range(6):
        started = time.perf_counter()
        position = await backend.log.append(_sent("g:idle", n))
        await feed.wait_for(position, timeout_s=20)
        latencies.append(time.perf_counter() - started)
    # Held fetches that waited out their time would average IDLE_FETCH_WAIT_MS / 2.
    assert max(latencies) < IDLE_FETCH_WAIT_MS / 1000 / 2, latencies


async def test_event_log__catch_up_hands_over_what_others_appended_before_the_call(
    backend: Backend,
) -> None:
    sink, feed = await backend.caught_up_feed()
    # Appended by "another process": nobody waits for these positions, only for the present.
    for n in range(5):
        for key in KEYS:
            await backend.log.append(_sent(key, n))
    await feed.catch_up(timeout_s=20)
    for key in KEYS:
        assert sink.of(key) == [_sent(key, n) for n in range(5)]
    await feed.catch_up(timeout_s=20)  # nothing new: returns at once


async def test_event_log__empty_topic_is_caught_up_at_once(backend: Backend) -> None:
    feed = await backend.feed(Collected())
    await feed.wait_caught_up(timeout_s=20)


async def test_event_log__signals_travel_on_their_own_stream(backend: Backend) -> None:
    stored, signals = Collected(), Collected()
    await backend.feed(stored)
    signal_feed = await backend.feed(signals, Stream.SIGNALS)
    command = _sent("g:alpha", 0, CommandContent(b"ring"))
    position = await backend.log.append(command)
    text = await backend.log.append(_sent("g:alpha", 1))
    await signal_feed.wait_for(position, timeout_s=20, topic=backend.topics[Stream.SIGNALS])
    assert [item.event for item in signals.logged] == [command]
    await backend.feeds[0].wait_for(text, timeout_s=20)
    assert [item.event for item in stored.logged] == [_sent("g:alpha", 1)]


async def test_event_log__explicit_topic_overrides_routing(backend: Backend) -> None:
    signals = Collected()
    feed = await backend.feed(signals, Stream.SIGNALS)
    topic = backend.topics[Stream.SIGNALS]
    position = await backend.log.append(_sent("g:alpha", 0), topic=topic)
    await feed.wait_for(position, timeout_s=20, topic=topic)
    assert [item.event for item in signals.logged] == [_sent("g:alpha", 0)]


async def test_event_log__append_to_a_missing_topic_fails_without_success(
    backend: Backend,
) -> None:
    started = time.monotonic()
    with pytest.raises(EventLogUnavailable):
        await backend.log.append(_sent("g:alpha", 0), topic=f"test.missing.{uuid.uuid4().hex}")
    assert time.monotonic() - started < 15


async def test_event_log__unreachable_log_raises_unavailable_in_bounded_time(
    backend: Backend,
) -> None:
    log = backend.unavailable_log()
    started = time.monotonic()
    try:
        with pytest.raises(EventLogUnavailable):
            await log.append(_sent("g:alpha", 0))
        with pytest.raises(EventLogUnavailable):
            await log.append_many([_sent("g:alpha", 1), _sent("g:beta", 1)])
    finally:
        await log.close()
    assert time.monotonic() - started < 30  # two attempts, each well under 15 s
