"""Kafka adapters (kafka-python): the event log a producer appends to, and a feed following it."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import KafkaError

from parley.adapters.progress import FeedProgress
from parley.adapters.wire import UndecodableEvent, decode_event, encode_event
from parley.domain.events import Event, Logged, Position
from parley.domain.streams import Stream, stream_for
from parley.ports import EventLogUnavailable, LoggedSink

log = logging.getLogger(__name__)

# Bounds chosen so that a Kafka outage fails a send within ~10 s instead of hanging the caller:
# metadata may block send() for MAX_BLOCK_MS, a batch may take DELIVERY_TIMEOUT_MS in total.
MAX_BLOCK_MS = 3000
REQUEST_TIMEOUT_MS = 4000
DELIVERY_TIMEOUT_MS = 8000
BOOTSTRAP_TIMEOUT_MS = 5000
CLIENT_LIMITS: dict[str, Any] = {
    "bootstrap_timeout_ms": BOOTSTRAP_TIMEOUT_MS,
    "request_timeout_ms": REQUEST_TIMEOUT_MS,
    "reconnect_backoff_max_ms": 1000,  # reconnect quickly once the broker is back
}


def _resolve(waiter: asyncio.Future[Position], partition: int, offset: int) -> None:
    if not waiter.done():
        waiter.set_result(Position(partition, offset))


def _reject(waiter: asyncio.Future[Position], error: BaseException) -> None:
    if not waiter.done():
        waiter.set_exception(error)


class KafkaEventLog:
    """The EventLog port on Kafka: acks=all, idempotent, keyed by the conversation key.

    The producer connects on `start()` (or the first append). Its blocking `send()` runs on one
    dedicated thread, which keeps the event loop free while metadata is fetched and keeps the
    submission order of appends, hence their order within a conversation.
    """

    def __init__(
        self,
        bootstrap: str,
        topics: Mapping[Stream, str] | None = None,
        *,
        client_id: str = "parley-event-log",
        linger_ms: int = 2,
    ) -> None:
        self._bootstrap = bootstrap
        self._topics = {stream: stream.value for stream in Stream} | dict(topics or {})
        self._client_id = client_id
        self._linger_ms = linger_ms
        self._producer: KafkaProducer | None = None
        self._connecting = asyncio.Lock()
        self._sender = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kafka-send")
        self._closed = False

    def topic_for(self, event: Event) -> str:
        return self._topics[stream_for(event)]

    async def start(self) -> None:
        """Connects now rather than on the first append; raises EventLogUnavailable."""
        await self._ensure_producer()

    async def append(self, event: Event, topic: str | None = None) -> Position:
        (position,) = await self.append_many([event], topic)
        return position

    async def append_many(
        self, events: Sequence[Event], topic: str | None = None
    ) -> list[Position]:
        producer = await self._ensure_producer()
        loop = asyncio.get_running_loop()
        records = [
            (topic or self.topic_for(e), e.conversation_key.encode(), encode_event(e))
            for e in events
        ]
        waiters: list[asyncio.Future[Position]] = [loop.create_future() for _ in records]

        def send_all() -> None:
            failed: Exception | None = None
            for (name, key, value), waiter in zip(records, waiters, strict=True):
                try:
                    # After one refused record send none of the rest: a later event of the same
                    # conversation must not land in the log without the one before it.
                    if failed is not None:
                        raise failed
                    sent = producer.send(name, key=key, value=value)
                except Exception as error:  # metadata timeout, closed producer: nothing sent
                    failed = error
                    loop.call_soon_threadsafe(_reject, waiter, error)
                    continue
                sent.add_callback(
                    lambda meta, w=waiter: loop.call_soon_threadsafe(
                        _resolve, w, meta.partition, meta.offset
                    )
                )
                sent.add_errback(
                    lambda error, w=waiter: loop.call_soon_threadsafe(_reject, w, error)
                )

        self._sender.submit(send_all)
        # The producer's own timeouts fail a send; this guard covers a callback that never comes.
        deadline_s = (MAX_BLOCK_MS * len(records) + DELIVERY_TIMEOUT_MS) / 1000 + 2
        try:
            done = await asyncio.wait_for(
                asyncio.gather(*waiters, return_exceptions=True), deadline_s
            )
        except TimeoutError:
            raise EventLogUnavailable(f"Kafka did not answer within {deadline_s} s") from None
        positions = [r for r in done if isinstance(r, Position)]
        if len(positions) < len(done):
            error = next(r for r in done if not isinstance(r, Position))
            raise EventLogUnavailable(f"Kafka did not acknowledge the append: {error!r}")
        return positions

    async def close(self) -> None:
        """Flushes what is in flight and disconnects."""
        self._closed = True
        await asyncio.to_thread(self._sender.shutdown, True)  # sends already submitted go out
        producer, self._producer = self._producer, None
        if producer is not None:
            await asyncio.to_thread(producer.close, 5)

    async def _ensure_producer(self) -> KafkaProducer:
        async with self._connecting:
            if self._closed:
                raise EventLogUnavailable("the event log is closed")
            if self._producer is None:
                try:
                    self._producer = await asyncio.to_thread(self._connect)
                except KafkaError as error:
                    raise EventLogUnavailable(
                        f"cannot reach Kafka at {self._bootstrap}: {error!r}"
                    ) from error
            return self._producer

    def _connect(self) -> KafkaProducer:
        return KafkaProducer(
            bootstrap_servers=self._bootstrap,
            client_id=self._client_id,
            acks="all",
            enable_idempotence=True,
            linger_ms=self._linger_ms,
            max_in_flight_requests_per_connection=5,
            delivery_timeout_ms=DELIVERY_TIMEOUT_MS,
            max_block_ms=MAX_BLOCK_MS,
            allow_auto_create_topics=False,
            **CLIENT_LIMITS,
        )


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
