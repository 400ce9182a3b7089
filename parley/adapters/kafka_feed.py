"""Kafka event feed (confluent-kafka): follows whole topics from the beginning, without a group.

librdkafka fetches and checks records in C; only decoding and the sink run in Python. With
kafka-python's consumer the feed used about a third of an ingress process's CPU under load.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Awaitable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from confluent_kafka import (
    Consumer,
    KafkaError,
    KafkaException,
    Message,
    TopicPartition,
)

from parley.adapters.progress import FeedProgress, FeedWaits
from parley.adapters.wire import UndecodableEvent, decode_event
from parley.domain.events import Event, Logged, Position
from parley.domain.log_streams import Stream
from parley.ports import EventLogUnavailable, LoggedSink

log = logging.getLogger(__name__)

# kafka-python client bounds, still used by the admin helpers and the lag probe.
CLIENT_LIMITS: dict[str, Any] = {
    "bootstrap_timeout_ms": 5000,
    "request_timeout_ms": 4000,
    "reconnect_backoff_max_ms": 1000,  # reconnect quickly once the broker is back
}
METADATA_TIMEOUT_S = 5.0
# Errors of a partition whose leader the cluster is still electing or announcing.
_LEADER_SETTLING = frozenset({
    KafkaError.NOT_LEADER_FOR_PARTITION,
    KafkaError.LEADER_NOT_AVAILABLE,
    KafkaError.UNKNOWN_TOPIC_OR_PART,
})  # fmt: skip
BATCH = 1000
# How long the broker may hold the fetch of a consumer that has read everything. The broker
# answers at once when a record arrives (fetch.min.bytes is 1), so this delays no record
# (tests/contracts/test_event_log.py); it only sets how often an idle consumer asks. At 10 ms
# (5 ms for the tail) the eight feeds and tails of an idle `parley run` sent Kafka ~900 empty
# fetches/s: 8-9% of a core of broker time for nothing; at 500 ms the eight consumers of an
# idle stack still asked 16 times a second, about 1% of a core of broker time.
IDLE_FETCH_WAIT_MS = 2000
# How long a polling thread (a feed's or tail's consumer, a producer's delivery reports) waits
# in poll() before it looks at its stop flag again: how often it wakes when idle, and how long
# closing it may take (closed together, see services/delivery/app.py). A record or a delivery
# report ends the wait at once. At 50-100 ms these threads were half of an idle process's CPU.
POLL_WAIT_S = 0.2

Offsets = dict[tuple[str, int], int]


def open_consumer(
    bootstrap: str, client_id: str, fetch_wait_ms: int = IDLE_FETCH_WAIT_MS
) -> Consumer:
    """A consumer that is only ever assigned partitions: no group is joined, nothing committed."""
    return Consumer(
        {
            "bootstrap.servers": bootstrap,
            "client.id": client_id,
            "group.id": client_id,  # required by the client; never joined or committed
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "fetch.wait.max.ms": fetch_wait_ms,
            "reconnect.backoff.max.ms": 1000,
            "logger": logging.getLogger("librdkafka.consumer"),
        }
    )


def watermarks(consumer: Consumer, topics: Sequence[str]) -> dict[tuple[str, int], tuple[int, int]]:
    """(low, high) offsets of every partition of `topics`; a missing topic is unavailable."""
    metadata = consumer.list_topics(timeout=METADATA_TIMEOUT_S)
    marks: dict[tuple[str, int], tuple[int, int]] = {}
    for topic in topics:
        found = metadata.topics.get(topic)
        if found is None or found.error is not None or not found.partitions:
            raise EventLogUnavailable(f"topic {topic} does not exist")
        for partition in sorted(found.partitions):
            marks[(topic, partition)] = _watermark(consumer, TopicPartition(topic, partition))
    return marks


def _watermark(consumer: Consumer, tp: TopicPartition) -> tuple[int, int]:
    """(low, high) of one partition. Just after a topic is created the broker may not yet act
    as its leader (NOT_LEADER_FOR_PARTITION): retriable errors are retried for a while."""
    deadline = time.monotonic() + METADATA_TIMEOUT_S
    while True:
        try:
            marks: tuple[int, int] = consumer.get_watermark_offsets(tp, timeout=METADATA_TIMEOUT_S)
            return marks
        except KafkaException as error:
            kafka_error = error.args[0]
            settling = kafka_error.retriable() or kafka_error.code() in _LEADER_SETTLING
            if not settling or time.monotonic() >= deadline:
                raise
            time.sleep(0.1)


def next_batch(consumer: Consumer, wait_s: float = POLL_WAIT_S, most: int = BATCH) -> list[Message]:
    """Waits up to `wait_s` for one record, then takes what is already fetched (`most` in all).
    consume() alone waits out its whole timeout unless `most` records arrive: that timeout in
    latency per record. poll() returns at the first record, so `wait_s` delays none."""
    first = consumer.poll(wait_s)
    if first is None:
        return []
    return [first, *consumer.consume(most - 1, 0)]


def decoded(records: Iterable[Message]) -> Iterator[tuple[Message, Event | None]]:
    """Each record read without error, with its event; None when it holds none this code can
    decode (a type newer than it): the reader passes over it, the record stays in the log for an
    auditor. The errors are end-of-partition notices and fetch errors librdkafka retries."""
    for record in records:
        if (error := record.error()) is not None:
            if error.code() != KafkaError._PARTITION_EOF:
                log.warning("consumer error: %s", error)
            continue
        try:
            event: Event | None = decode_event(record.value() or b"")
        except UndecodableEvent as undecodable:
            log.warning(
                "skipped an undecodable record at %s/%d@%d: %s", *place(record), undecodable
            )
            event = None
        yield record, event


def place(record: Message) -> tuple[str, int, int]:
    """The topic, partition and offset of a record read without error."""
    topic, partition, offset = record.topic(), record.partition(), record.offset()
    assert topic is not None and partition is not None and offset is not None
    return topic, partition, offset


async def close_together(*closing: Awaitable[None]) -> None:
    """Awaits every close at once, as each waits out its polling thread's last poll
    (POLL_WAIT_S): a service's shutdown does not add them up. Every close runs to its end; the
    first failure is raised after."""
    results = await asyncio.gather(*closing, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result


def log_ends(bootstrap: str, topic: str) -> dict[int, int]:
    """The present end (next offset) of every partition of a topic (blocking)."""
    consumer = open_consumer(bootstrap, "parley-log-ends")
    try:
        return {p: high for (_, p), (_, high) in watermarks(consumer, [topic]).items()}
    finally:
        consumer.close()


class KafkaEventFeed(FeedWaits):
    """The EventFeed port on Kafka: follows whole topics from the beginning, without a group.

    A daemon thread polls a consumer that is assigned every partition of the topics, decodes
    each record and hops to the event loop, where the sink is applied and the progress advanced:
    all sink (model) mutation happens on the loop thread, in log order per partition.
    `wait_for` and `wait_caught_up` default to the first followed topic.
    """

    def __init__(
        self,
        bootstrap: str,
        sink: LoggedSink,
        topics: Sequence[str] = (Stream.CONVERSATION_EVENTS.value,),
        *,
        client_id: str = "parley-event-feed",
        start_at: Mapping[int, int] | None = None,
    ) -> None:
        """`start_at` (partition -> next offset of the first topic, from a checkpoint) skips
        what the sink already holds; partitions it does not name start at the beginning."""
        self._start_at = dict(start_at or {})
        self._bootstrap = bootstrap
        self._sink = sink
        self._topics = list(topics)
        self._client_id = client_id
        self._progress = FeedProgress()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ends_consumer: Consumer | None = None
        self._ends_lock = threading.Lock()

    async def start(self) -> None:
        """Assigns every partition and starts following; raises EventLogUnavailable."""
        self._loop = asyncio.get_running_loop()
        try:
            consumer, beginnings, ends = await asyncio.to_thread(self._connect)
        except KafkaException as error:
            raise EventLogUnavailable(f"cannot follow {self._topics}: {error!r}") from error
        for (topic, partition), offset in beginnings.items():
            self._progress.advance(topic, partition, offset)  # older records were deleted
            if topic == self._topics[0] and partition in self._start_at:
                # The checkpoint the sink was restored from covers everything before this.
                self._progress.advance(topic, partition, self._start_at[partition])
        self._progress.expect(ends)
        self._thread = threading.Thread(
            target=self._run, args=(consumer,), name="kafka-feed", daemon=True
        )
        self._thread.start()

    async def catch_up(self, timeout_s: float) -> None:
        """Asks the broker for the present end of every partition, then waits to reach it."""
        ends = await asyncio.wait_for(asyncio.to_thread(self._present_ends), timeout_s)
        await self._progress.wait_for_ends(ends, timeout_s)

    def positions(self) -> dict[int, int]:
        """Partition -> next offset of the first topic handed to the sink (call on the loop
        thread: between two handovers, the sink's state covers exactly the offsets below)."""
        handed = self._progress.snapshot()
        return {p: offset for (topic, p), offset in handed.items() if topic == self._topics[0]}

    def _present_ends(self) -> Offsets:
        with self._ends_lock:  # one metadata consumer, opened on first use, shared by callers
            if self._ends_consumer is None:
                self._ends_consumer = open_consumer(self._bootstrap, f"{self._client_id}-ends")
            marks = watermarks(self._ends_consumer, self._topics)
        return {tp: high for tp, (_, high) in marks.items()}

    async def close(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join, 10)
            self._thread = None
        ends_consumer, self._ends_consumer = self._ends_consumer, None
        if ends_consumer is not None:
            await asyncio.to_thread(ends_consumer.close)

    def _connect(self) -> tuple[Consumer, Offsets, Offsets]:
        consumer = open_consumer(self._bootstrap, self._client_id)
        try:
            marks = watermarks(consumer, self._topics)
            # Concrete offsets, not OFFSET_BEGINNING: a logical offset makes librdkafka look each
            # partition's up first, and one found late waits out a fetch already held for the
            # others (IDLE_FETCH_WAIT_MS): a new node missed records for half a second.
            consumer.assign(
                [
                    TopicPartition(t, p, self._first_offset(t, p, low))
                    for (t, p), (low, _) in marks.items()
                ]
            )
        except BaseException:
            consumer.close()
            raise
        beginnings = {tp: low for tp, (low, _) in marks.items()}
        ends = {tp: high for tp, (_, high) in marks.items()}
        return consumer, beginnings, ends

    def _first_offset(self, topic: str, partition: int, low: int) -> int:
        if topic == self._topics[0] and partition in self._start_at:
            return self._start_at[partition]
        return low

    def _run(self, consumer: Consumer) -> None:
        assert self._loop is not None
        try:
            while not self._stopping.is_set():
                records = next_batch(consumer)
                if records:
                    self._loop.call_soon_threadsafe(self._hand_over, *self._decode(records))
        except Exception as error:
            log.exception("the event feed stopped")
            failure = EventLogUnavailable(f"the event feed stopped: {error!r}")
            if not self._loop.is_closed():
                self._loop.call_soon_threadsafe(self._progress.fail, failure)
        finally:
            consumer.close()

    @staticmethod
    def _decode(records: Sequence[Message]) -> tuple[list[Logged], Offsets]:
        handed: list[Logged] = []
        advanced: Offsets = {}
        for record, event in decoded(records):
            topic, partition, offset = place(record)
            advanced[(topic, partition)] = offset + 1
            if event is not None:  # skipping an undecodable record keeps the feed alive
                handed.append(Logged(event, Position(partition, offset), topic))
        return handed, advanced

    def _hand_over(self, handed: list[Logged], advanced: dict[tuple[str, int], int]) -> None:
        if self._stopping.is_set():
            return
        try:
            for logged in handed:
                self._sink.apply(logged)
        except Exception as error:
            # The sink's model is now behind the log: stop, and fail waiters instead of lying.
            log.exception("the sink failed; the event feed stops")
            self._stopping.set()
            self._progress.fail(EventLogUnavailable(f"the feed's sink failed: {error!r}"))
            return
        for (topic, partition), next_offset in advanced.items():
            self._progress.advance(topic, partition, next_offset)
