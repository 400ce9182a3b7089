"""Kafka event feed (confluent-kafka): follows whole topics from the beginning, without a group.

librdkafka fetches and checks records in C; only decoding and the sink run in Python. With
kafka-python's consumer the feed used about a third of an ingress process's CPU under load.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Sequence
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, Message, TopicPartition

from parley.adapters.progress import FeedProgress
from parley.adapters.wire import UndecodableEvent, decode_event
from parley.domain.events import Logged, Position
from parley.domain.streams import Stream
from parley.ports import EventLogUnavailable, LoggedSink

log = logging.getLogger(__name__)

# kafka-python client bounds, still used by the admin helpers and the lag probe.
CLIENT_LIMITS: dict[str, Any] = {
    "bootstrap_timeout_ms": 5000,
    "request_timeout_ms": 4000,
    "reconnect_backoff_max_ms": 1000,  # reconnect quickly once the broker is back
}
METADATA_TIMEOUT_S = 5.0
BATCH = 1000

Offsets = dict[tuple[str, int], int]


class KafkaEventFeed:
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
    ) -> None:
        self._bootstrap = bootstrap
        self._sink = sink
        self._topics = list(topics)
        self._client_id = client_id
        self._progress = FeedProgress()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def start(self) -> None:
        """Assigns every partition and starts following; raises EventLogUnavailable."""
        self._loop = asyncio.get_running_loop()
        try:
            consumer, beginnings, ends = await asyncio.to_thread(self._connect)
        except KafkaException as error:
            raise EventLogUnavailable(f"cannot follow {self._topics}: {error!r}") from error
        for (topic, partition), offset in beginnings.items():
            self._progress.advance(topic, partition, offset)  # older records were deleted
        self._progress.expect(ends)
        self._thread = threading.Thread(
            target=self._run, args=(consumer,), name="kafka-feed", daemon=True
        )
        self._thread.start()

    async def wait_for(
        self, position: Position, timeout_s: float, topic: str | None = None
    ) -> None:
        await self._progress.wait_for(
            topic or self._topics[0], position.partition, position.offset, timeout_s
        )

    async def wait_caught_up(self, timeout_s: float) -> None:
        """Returns once everything that was in the topics at `start()` was handed to the sink."""
        await self._progress.wait_caught_up(timeout_s)

    async def close(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join, 10)
            self._thread = None

    def _connect(self) -> tuple[Consumer, Offsets, Offsets]:
        consumer = Consumer(
            {
                "bootstrap.servers": self._bootstrap,
                "client.id": self._client_id,
                "group.id": self._client_id,  # required by the client; never joined or committed
                "enable.auto.commit": False,
                "enable.auto.offset.store": False,
                "fetch.wait.max.ms": 10,
                "reconnect.backoff.max.ms": 1000,
                "logger": logging.getLogger("librdkafka.consumer"),
            }
        )
        try:
            metadata = consumer.list_topics(timeout=METADATA_TIMEOUT_S)
            partitions: list[TopicPartition] = []
            for topic in self._topics:
                found = metadata.topics.get(topic)
                if found is None or found.error is not None or not found.partitions:
                    raise EventLogUnavailable(f"topic {topic} does not exist")
                partitions += [
                    TopicPartition(topic, p, OFFSET_BEGINNING) for p in sorted(found.partitions)
                ]
            beginnings: Offsets = {}
            ends: Offsets = {}
            for tp in partitions:
                low, high = consumer.get_watermark_offsets(tp, timeout=METADATA_TIMEOUT_S)
                beginnings[(tp.topic, tp.partition)] = low
                ends[(tp.topic, tp.partition)] = high
            consumer.assign(partitions)
        except BaseException:
            consumer.close()
            raise
        return consumer, beginnings, ends

    def _run(self, consumer: Consumer) -> None:
        assert self._loop is not None
        try:
            while not self._stopping.is_set():
                # consume() waits out its whole timeout unless BATCH records arrive (100 ms
                # of latency per record): poll for the first, then take what is fetched.
                first = consumer.poll(0.1)
                if first is None:
                    continue
                records = [first, *consumer.consume(BATCH - 1, 0)]
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
        for record in records:
            if record.error() is not None:
                # End-of-partition notices and transient fetch errors: librdkafka retries.
                continue
            topic, partition, offset = record.topic(), record.partition(), record.offset()
            assert topic is not None and partition is not None and offset is not None
            position = Position(partition, offset)
            advanced[(topic, partition)] = offset + 1
            try:
                handed.append(Logged(decode_event(record.value() or b""), position, topic))
            except UndecodableEvent:
                # Skipping keeps the feed alive; the record stays in the log for an auditor.
                log.exception("skipped an undecodable record at %s %s", topic, position)
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
