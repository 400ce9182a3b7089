"""In-memory fakes of the event log and event feed, for unit tests and the embedded backend."""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping, Sequence

from parley.adapters.progress import FeedProgress
from parley.domain.events import Event, Logged, Position
from parley.domain.streams import Stream, stream_for
from parley.ports import EventLogUnavailable, LoggedSink


def partition_of(key: str, partitions: int) -> int:
    """A stable partition for a key: one key always lands in one partition, like Kafka's."""
    return zlib.crc32(key.encode()) % partitions


class InMemoryEventLog:
    """The EventLog port over Python lists: partitions by key hash, offsets per partition.

    Appends are handed synchronously to every subscribed sink before `append` returns. Set
    `available = False` to make appends raise EventLogUnavailable without writing anything; so
    does an append to a topic outside `topics`, as Kafka without topic auto-creation would.
    """

    def __init__(self, partitions: int = 6, topics: Mapping[Stream, str] | None = None) -> None:
        if partitions < 1:
            raise ValueError("a topic needs at least one partition")
        self.partitions = partitions
        self.available = True
        self._topics = {stream: stream.value for stream in Stream} | dict(topics or {})
        self._records: dict[str, list[list[Logged]]] = {}
        self._subscribers: list[tuple[frozenset[str], LoggedSink]] = []
        self.closed = False

    def topic_for(self, event: Event) -> str:
        return self._topics[stream_for(event)]

    def topic_of(self, stream: Stream) -> str:
        return self._topics[stream]

    async def append(self, event: Event, topic: str | None = None) -> Position:
        (position,) = await self.append_many([event], topic)
        return position

    async def append_many(
        self, events: Sequence[Event], topic: str | None = None
    ) -> list[Position]:
        if not self.available or self.closed:
            raise EventLogUnavailable("the in-memory event log is switched off")
        routed = [(event, topic or self.topic_for(event)) for event in events]
        if missing := {name for _, name in routed} - set(self._topics.values()):
            raise EventLogUnavailable(f"no such topic: {sorted(missing)}")
        return [self._write(event, name) for event, name in routed]

    async def close(self) -> None:
        self.closed = True

    def subscribe(self, sink: LoggedSink, topics: Iterable[str]) -> None:
        """Hands `sink` everything already in `topics`, then every later append, in log order."""
        wanted = frozenset(topics)
        for logged in self.records(*wanted):
            sink.apply(logged)
        self._subscribers.append((wanted, sink))

    def unsubscribe(self, sink: LoggedSink) -> None:
        self._subscribers = [(t, s) for t, s in self._subscribers if s is not sink]

    def records(self, *topics: str) -> list[Logged]:
        """Everything in `topics`, partition by partition, each in offset order."""
        return [
            logged
            for topic in topics
            for partition in self._records.get(topic, [])
            for logged in partition
        ]

    def end_offsets(self, topic: str) -> dict[int, int]:
        return {p: len(records) for p, records in enumerate(self._partitions(topic))}

    def _partitions(self, topic: str) -> list[list[Logged]]:
        return self._records.setdefault(topic, [[] for _ in range(self.partitions)])

    def _write(self, event: Event, topic: str) -> Position:
        partition = partition_of(event.conversation_key, self.partitions)
        records = self._partitions(topic)[partition]
        logged = Logged(event, Position(partition, len(records)), topic)
        records.append(logged)
        for topics, sink in self._subscribers:
            if topic in topics:
                sink.apply(logged)
        return logged.position


class InMemoryEventFeed:
    """The EventFeed port over an InMemoryEventLog: the sink sees the log from the beginning.

    `wait_for` and `wait_caught_up` default to the first followed topic, as in KafkaEventFeed.
    """

    def __init__(
        self, log: InMemoryEventLog, sink: LoggedSink, topics: Sequence[str] | None = None
    ) -> None:
        self._log = log
        self._sink = sink
        self._topics = list(topics or [log.topic_of(Stream.CONVERSATION_EVENTS)])
        self._progress = FeedProgress()
        self._started = False

    async def start(self) -> None:
        ends = {(t, p): end for t in self._topics for p, end in self._log.end_offsets(t).items()}
        self._progress.expect(ends)
        self._log.subscribe(self, self._topics)
        self._started = True

    def apply(self, logged: Logged) -> None:
        self._sink.apply(logged)
        position = logged.position
        self._progress.advance(logged.topic, position.partition, position.offset + 1)

    async def wait_for(
        self, position: Position, timeout_s: float, topic: str | None = None
    ) -> None:
        await self._progress.wait_for(
            topic or self._topics[0], position.partition, position.offset, timeout_s
        )

    async def wait_caught_up(self, timeout_s: float) -> None:
        await self._progress.wait_caught_up(timeout_s)

    async def close(self) -> None:
        if self._started:
            self._log.unsubscribe(self)
            self._started = False
