"""Kafka event feed (kafka-python): follows whole topics from the beginning, without a group."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from kafka import KafkaConsumer, TopicPartition
from kafka.errors import KafkaError

from parley.adapters.progress import FeedProgress
from parley.adapters.wire import UndecodableEvent, decode_event
from parley.domain.events import Logged, Position
from parley.domain.streams import Stream
from parley.ports import EventLogUnavailable, LoggedSink

log = logging.getLogger(__name__)

CLIENT_LIMITS: dict[str, Any] = {
    "bootstrap_timeout_ms": 5000,
    "request_timeout_ms": 4000,
    "reconnect_backoff_max_ms": 1000,  # reconnect quickly once the broker is back
}


def _by_key(offsets: Mapping[TopicPartition, int]) -> dict[tuple[str, int], int]:
    return {(tp.topic, tp.partition): offset for tp, offset in offsets.items()}


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
        except KafkaError as error:
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

    def _connect(
        self,
    ) -> tuple[KafkaConsumer, dict[tuple[str, int], int], dict[tuple[str, int], int]]:
        consumer = KafkaConsumer(
            bootstrap_servers=self._bootstrap,
            client_id=self._client_id,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            allow_auto_create_topics=False,
            fetch_max_wait_ms=100,
            **CLIENT_LIMITS,
        )
        try:
            partitions = []
            for topic in self._topics:
                ids = consumer.partitions_for_topic(topic)
                if not ids:
                    raise EventLogUnavailable(f"topic {topic} does not exist")
                partitions += [TopicPartition(topic, p) for p in sorted(ids)]
            consumer.assign(partitions)
            consumer.seek_to_beginning(*partitions)
            beginnings = consumer.beginning_offsets(partitions)
            ends = consumer.end_offsets(partitions)
        except BaseException:
            consumer.close()
            raise
        return consumer, _by_key(beginnings), _by_key(ends)

    def _run(self, consumer: KafkaConsumer) -> None:
        assert self._loop is not None
        try:
            while not self._stopping.is_set():
                batches = consumer.poll(timeout_ms=100)
                if batches:
                    self._loop.call_soon_threadsafe(self._hand_over, *self._decode(batches))
        except Exception as error:
            log.exception("the event feed stopped")
            failure = EventLogUnavailable(f"the event feed stopped: {error!r}")
            if not self._loop.is_closed():
                self._loop.call_soon_threadsafe(self._progress.fail, failure)
        finally:
            consumer.close()

    @staticmethod
    def _decode(
        batches: Mapping[Any, Sequence[Any]],
    ) -> tuple[list[Logged], dict[tuple[str, int], int]]:
        handed: list[Logged] = []
        for records in batches.values():
            for record in records:
                position = Position(record.partition, record.offset)
                try:
                    handed.append(Logged(decode_event(record.value), position, record.topic))
                except UndecodableEvent:
                    # Skipping keeps the feed alive; the record stays in the log for an auditor.
                    log.exception("skipped an undecodable record at %s %s", record.topic, position)
        advanced = {
            (tp.topic, tp.partition): records[-1].offset + 1 for tp, records in batches.items()
        }
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
