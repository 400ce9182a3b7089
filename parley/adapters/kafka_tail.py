"""Kafka tail (confluent-kafka): follows topics from their end, live only, as raw records."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Sequence

from confluent_kafka import Consumer, KafkaException, TopicPartition

from parley.adapters.kafka_feed import next_batch, open_consumer, watermarks
from parley.adapters.kafka_records import Record
from parley.ports import EventLogUnavailable

log = logging.getLogger(__name__)

RecordSink = Callable[[list[Record]], None]


class KafkaTail:
    """Hands every record appended after `start()` to `sink`, on the event loop, in order per
    partition. No consumer group and no committed offsets: each process sees every record
    (delivery nodes each hold their own sessions). Start offsets are the high watermarks read
    at start, not OFFSET_END, so a record appended between start() and the first fetch is
    never skipped."""

    def __init__(
        self, bootstrap: str, topics: Sequence[str], sink: RecordSink, client_id: str
    ) -> None:
        self._bootstrap = bootstrap
        self._topics = list(topics)
        self._sink = sink
        self._client_id = client_id
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        try:
            consumer = await asyncio.to_thread(self._connect)
        except KafkaException as error:
            raise EventLogUnavailable(f"cannot follow {self._topics}: {error!r}") from error
        self._thread = threading.Thread(
            target=self._run, args=(consumer,), name="kafka-tail", daemon=True
        )
        self._thread.start()

    async def close(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join, 10)
            self._thread = None

    def _connect(self) -> Consumer:
        consumer = open_consumer(self._bootstrap, self._client_id)
        try:
            marks = watermarks(consumer, self._topics)
            consumer.assign([TopicPartition(t, p, high) for (t, p), (_, high) in marks.items()])
        except BaseException:
            consumer.close()
            raise
        return consumer

    def _run(self, consumer: Consumer) -> None:
        assert self._loop is not None
        try:
            while not self._stopping.is_set():
                records = [Record.of(m) for m in next_batch(consumer) if m.error() is None]
                if records and not self._loop.is_closed():
                    self._loop.call_soon_threadsafe(self._hand_over, records)
        except Exception:
            log.exception("the kafka tail stopped")
        finally:
            consumer.close()

    def _hand_over(self, records: list[Record]) -> None:
        if self._stopping.is_set():
            return
        try:
            self._sink(records)
        except Exception:
            # One bad record must not stop live delivery to everyone else.
            log.exception("the tail's sink failed on a batch of %d records", len(records))
