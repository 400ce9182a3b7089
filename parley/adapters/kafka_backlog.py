"""Kafka backlog (confluent-kafka): every partition of a topic, from a start up to the end it had
when opened, decoded in a reader thread; no consumer group, nothing committed (a replay)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
from collections.abc import Mapping
from dataclasses import dataclass

from confluent_kafka import Consumer, Message, TopicPartition

from parley.adapters.kafka_feed import decoded, open_consumer, place, watermarks
from parley.domain.events import Logged, Position

log = logging.getLogger(__name__)

CHUNK = 10_000  # records per consume() call
QUEUED_CHUNKS = 8  # decoded chunks waiting for the caller: bounds memory, keeps fetching ahead


@dataclass(frozen=True)
class BacklogSpan:
    """Per partition, the first offset read and the end (next offset) when the backlog opened."""

    starts: dict[int, int]
    ends: dict[int, int]

    @property
    def events(self) -> int:
        return sum(max(0, self.ends[p] - self.starts[p]) for p in self.ends)


@dataclass(frozen=True)
class _Chunk:
    logged: list[Logged]
    undecodable: int


class KafkaBacklog:
    """Hands over the backlog in log order per partition, in chunks, until every partition has
    reached the end it had at `open()`; later records are left for whoever follows the log."""

    def __init__(
        self,
        bootstrap: str,
        topic: str,
        client_id: str,
        start_at: Mapping[int, int] | None = None,
    ) -> None:
        """`start_at`: partition -> first offset to read (a resumed replay); others from the
        beginning of what the log still holds."""
        self._bootstrap = bootstrap
        self._topic = topic
        self._client_id = client_id
        self._start_at = dict(start_at or {})
        self._chunks: queue.Queue[_Chunk | BaseException | None] = queue.Queue(QUEUED_CHUNKS)
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._done = False
        self.undecodable = 0

    def open(self) -> BacklogSpan:
        """Reads the partitions' ends and starts the reader thread (blocking)."""
        consumer = open_consumer(self._bootstrap, self._client_id)
        try:
            marks = watermarks(consumer, [self._topic])
            starts = {p: max(low, self._start_at.get(p, low)) for (_, p), (low, _) in marks.items()}
            ends = {p: high for (_, p), (_, high) in marks.items()}
            wanted = [p for p in ends if starts[p] < ends[p]]
            consumer.assign([TopicPartition(self._topic, p, starts[p]) for p in wanted])
        except BaseException:
            consumer.close()
            raise
        self._thread = threading.Thread(
            target=self._read, args=(consumer, ends, set(wanted)), name="kafka-backlog", daemon=True
        )
        self._thread.start()
        return BacklogSpan(starts, ends)

    async def take(self, limit: int) -> list[Logged] | None:
        """At least one chunk (waiting for it), plus whatever else is decoded, up to about
        `limit` events; None once the whole backlog was handed over."""
        if self._done:
            return None
        taken: list[Logged] = []
        item = await asyncio.to_thread(self._chunks.get)
        while True:
            if item is None:
                self._done = True
                return taken or None
            if isinstance(item, BaseException):
                raise item
            taken.extend(item.logged)
            self.undecodable += item.undecodable
            if len(taken) >= limit:
                return taken
            try:
                item = self._chunks.get_nowait()
            except queue.Empty:
                return taken

    def close(self) -> None:
        self._stopping.set()
        while self._thread is not None and self._thread.is_alive():
            with contextlib.suppress(queue.Empty):  # unblock a reader waiting for room
                self._chunks.get(timeout=0.1)
        self._thread = None
        with contextlib.suppress(queue.Full):  # and a `take` still waiting (a cancelled one)
            self._chunks.put_nowait(None)

    def _read(self, consumer: Consumer, ends: dict[int, int], remaining: set[int]) -> None:
        try:
            while remaining and not self._stopping.is_set():
                records = consumer.consume(CHUNK, 0.5)
                chunk = self._decode(records, ends, remaining, consumer)
                if chunk.logged or chunk.undecodable:
                    self._put(chunk)
            self._put(None)
        except BaseException as error:  # handed to the caller, which raises it
            log.exception("the backlog reader stopped")
            self._put(error)
        finally:
            consumer.close()

    def _put(self, item: _Chunk | BaseException | None) -> None:
        while not self._stopping.is_set():
            try:
                self._chunks.put(item, timeout=0.2)
                return
            except queue.Full:
                continue

    def _decode(
        self, records: list[Message], ends: dict[int, int], remaining: set[int], consumer: Consumer
    ) -> _Chunk:
        logged: list[Logged] = []
        undecodable = 0
        for record, event in decoded(records):
            _, partition, offset = place(record)
            end = ends[partition]
            if offset >= end:  # appended after open(): not part of this backlog
                self._finish(partition, remaining, consumer)
                continue
            if event is None:
                undecodable += 1
            else:
                logged.append(Logged(event, Position(partition, offset), self._topic))
            if offset == end - 1:
                self._finish(partition, remaining, consumer)
        return _Chunk(logged, undecodable)

    def _finish(self, partition: int, remaining: set[int], consumer: Consumer) -> None:
        if partition in remaining:
            remaining.discard(partition)
            consumer.pause([TopicPartition(self._topic, partition)])
