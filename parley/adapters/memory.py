"""In-memory fakes of the event log, event feed and blob store, for unit tests and embedding."""

from __future__ import annotations

import asyncio
import secrets
import time
import zlib
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from pathlib import Path

from parley.adapters.event_log_topics import TopicRoutedLog
from parley.adapters.pending_appends import PendingAppend, PendingAppends
from parley.adapters.progress import FeedProgress, FeedWaits
from parley.domain.events import Event, Logged, Position
from parley.domain.log_streams import Stream
from parley.ports import BlobInfo, BlobStoreUnavailable, EventLogUnavailable, LoggedSink


def partition_of(key: str, partitions: int) -> int:
    """A stable partition for a key: one key always lands in one partition, like Kafka's."""
    return zlib.crc32(key.encode()) % partitions


class InMemoryEventLog(TopicRoutedLog):
    """The EventLog port over Python lists: partitions by key hash, offsets per partition.

    Appends are handed synchronously to every subscribed sink before `append` returns. Set
    `available = False` to make appends raise EventLogUnavailable without writing anything; so
    does an append to a topic outside `topics`, as Kafka without topic auto-creation would.
    `stall`, `cut_off` and `reconnect` play an outage with appends in flight, as Kafka's does.
    """

    def __init__(self, partitions: int = 6, topics: Mapping[Stream, str] | None = None) -> None:
        if partitions < 1:
            raise ValueError("a topic needs at least one partition")
        super().__init__(topics)
        self.partitions = partitions
        self.available = True
        self._records: dict[str, list[list[Logged]]] = {}
        self._subscribers: list[tuple[frozenset[str], LoggedSink]] = []
        self.closed = False
        self._pending = PendingAppends(lambda: not self.available)
        self._held: list[tuple[list[tuple[Event, str]], PendingAppend]] | None = None

    async def append_many(
        self, events: Sequence[Event], topic: str | None = None
    ) -> list[Position]:
        if not self.available or self.closed:
            raise EventLogUnavailable("the in-memory event log is switched off")
        routed = [(event, topic or self.topic_for(event)) for event in events]
        if missing := {name for _, name in routed} - set(self._topics.values()):
            raise EventLogUnavailable(f"no such topic: {sorted(missing)}")
        if self._held is not None:
            append = self._pending.open(len(routed))
            self._held.append((routed, append))
            return await append.wait()
        return [self._write(event, name) for event, name in routed]

    @property
    def waiting(self) -> int:
        """Callers waiting for a held record: an append, or a retry that joined it."""
        return self._pending.waiting()

    def stall(self) -> None:
        """Appends from now on wait, unacknowledged: records sent to a broker that hangs."""
        if self._held is None:
            self._held = []

    def cut_off(self) -> None:
        """The log is unreachable: appends fail at once, and those waiting are answered now,
        outcome unknown, while their records stay held (a producer keeps them)."""
        self.available = False
        self._pending.outage()

    def reconnect(self, *, write_held: bool = True) -> None:
        """Reachable again: the held records are written in order, or given up on
        (`write_held=False`: the producer's delivery timeout ran out first)."""
        self.available = True
        held, self._held = self._held or [], None
        for routed, append in held:
            for (event, name), delivery in zip(routed, append.deliveries, strict=True):
                outcome = self._write(event, name) if write_held else "delivery timed out"
                self._pending.settle(delivery, outcome)

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


class InMemoryEventFeed(FeedWaits):
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

    async def catch_up(self, timeout_s: float) -> None:
        ends = {(t, p): end for t in self._topics for p, end in self._log.end_offsets(t).items()}
        await self._progress.wait_for_ends(ends, timeout_s)

    async def close(self) -> None:
        if self._started:
            self._log.unsubscribe(self)
            self._started = False


def _wall_ms() -> int:
    return time.time_ns() // 1_000_000


class InMemoryBlobStore:
    """The BlobStore port over a dict. Presigned URLs are `memory://` capabilities that
    `put_via_url` / `get_via_url` honour until they expire; `start_multipart` leaves an
    incomplete upload behind, as a crashed put would. `available = False` fails every call."""

    def __init__(self, clock_ms: Callable[[], int] = _wall_ms) -> None:
        self.available = True
        self._clock_ms = clock_ms
        self._objects: dict[str, tuple[bytes, BlobInfo]] = {}
        self._grants: dict[str, tuple[str, str, int]] = {}  # token -> (method, key, expiry)
        self.incomplete: dict[str, int] = {}  # key -> start time (ms)

    def _check(self) -> None:
        if not self.available:
            raise BlobStoreUnavailable("the in-memory blob store is switched off")

    async def put_file(self, key: str, path: str, content_type: str) -> BlobInfo:
        return await self.put_bytes(
            key, await asyncio.to_thread(Path(path).read_bytes), content_type
        )

    async def put_bytes(self, key: str, data: bytes, content_type: str) -> BlobInfo:
        self._check()
        info = BlobInfo(key, len(data), content_type, self._clock_ms())
        self._objects[key] = (bytes(data), info)
        return info

    async def stat(self, key: str) -> BlobInfo | None:
        self._check()
        found = self._objects.get(key)
        return None if found is None else found[1]

    async def get(
        self, key: str, offset: int = 0, chunk_size: int = 256 * 1024
    ) -> AsyncIterator[bytes]:
        self._check()
        if key not in self._objects:
            raise KeyError(key)
        data = self._objects[key][0]
        for start in range(offset, len(data), chunk_size):
            yield data[start : start + chunk_size]

    async def download_to(self, key: str, path: str) -> BlobInfo:
        self._check()
        if key not in self._objects:
            raise KeyError(key)
        data, info = self._objects[key]
        await asyncio.to_thread(Path(path).write_bytes, data)
        return info

    async def delete(self, keys: Sequence[str]) -> None:
        self._check()
        for key in keys:
            self._objects.pop(key, None)

    async def list(self, prefix: str) -> list[BlobInfo]:
        self._check()
        return [info for key, (_, info) in sorted(self._objects.items()) if key.startswith(prefix)]

    async def presign_put(self, key: str, expires_s: int) -> str:
        return self._grant("PUT", key, expires_s)

    async def presign_get(self, key: str, expires_s: int, download_name: str = "") -> str:
        return self._grant("GET", key, expires_s)

    def _grant(self, method: str, key: str, expires_s: int) -> str:
        self._check()
        token = secrets.token_hex(8)
        self._grants[token] = (method, key, self._clock_ms() + expires_s * 1000)
        return f"memory://{key}?token={token}"

    def _granted(self, method: str, url: str) -> str:
        granted = self._grants.get(url.rpartition("token=")[2])
        if granted is None or granted[0] != method or granted[2] < self._clock_ms():
            raise PermissionError(f"{method} {url}: no valid grant")
        return granted[1]

    def put_via_url(self, url: str, data: bytes, content_type: str = "") -> None:
        key = self._granted("PUT", url)
        self._objects[key] = (data, BlobInfo(key, len(data), content_type, self._clock_ms()))

    def get_via_url(self, url: str) -> bytes:
        return self._objects[self._granted("GET", url)][0]

    def start_multipart(self, key: str) -> None:
        self.incomplete[key] = self._clock_ms()

    async def abort_incomplete_uploads(self, prefix: str, older_than_ms: int) -> int:
        self._check()
        stale = [
            k for k, t in self.incomplete.items() if k.startswith(prefix) and t < older_than_ms
        ]
        for key in stale:
            del self.incomplete[key]
        return len(stale)
