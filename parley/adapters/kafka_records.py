"""Plain Kafka records (confluent-kafka): records as read (by the tail too), and for the webhook
topics acknowledged writes and reads of a whole small topic or of one record."""

from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import dataclass
from typing import Any

from confluent_kafka import KafkaError, Message, Producer, TopicPartition

from parley.adapters.kafka_feed import POLL_WAIT_S, next_batch, open_consumer, watermarks
from parley.ports import EventLogUnavailable

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Record:
    """A record as read, undecoded; a tombstone's value is empty."""

    topic: str
    partition: int
    offset: int
    key: bytes
    value: bytes

    @classmethod
    def of(cls, message: Message) -> Record:
        """A record the consumer read without error."""
        return cls(
            message.topic() or "",
            message.partition() or 0,
            message.offset() or 0,
            message.key() or b"",
            message.value() or b"",
        )


class KafkaRecordWriter:
    """acks=all, idempotent; `write` returns once the record is acknowledged."""

    def __init__(self, bootstrap: str, client_id: str) -> None:
        self._producer = Producer(
            {
                "bootstrap.servers": bootstrap,
                "client.id": client_id,
                "enable.idempotence": True,
                "acks": "all",
                "linger.ms": 1,
                "message.timeout.ms": 10_000,
                "logger": logging.getLogger("librdkafka.producer"),
            }
        )
        self._stopping = threading.Event()
        self._poller = threading.Thread(target=self._poll, name="kafka-records", daemon=True)
        self._poller.start()

    def _poll(self) -> None:
        while not self._stopping.is_set():
            self._producer.poll(POLL_WAIT_S)

    async def write(self, topic: str, key: bytes, value: bytes | None) -> tuple[int, int]:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[tuple[int, int]] = loop.create_future()

        def settle(error: KafkaError | None, message: Message) -> None:
            if done.done():
                return
            if error is not None:
                done.set_exception(EventLogUnavailable(f"Kafka refused the record: {error}"))
            else:
                done.set_result((message.partition() or 0, message.offset() or 0))

        def report(error: KafkaError | None, message: Message) -> None:
            loop.call_soon_threadsafe(settle, error, message)

        self._producer.produce(topic, key=key, value=value, on_delivery=report)
        return await done

    async def close(self) -> None:
        self._stopping.set()  # the poller's last poll overlaps the flush, which serves reports too
        await asyncio.to_thread(self._producer.flush, 5)
        await asyncio.to_thread(self._poller.join, 5)


def read_topic(bootstrap: str, topic: str, client_id: str) -> list[Record]:
    """Every record of `topic` present now, in order per partition (blocking)."""
    consumer = open_consumer(bootstrap, client_id)
    try:
        marks = watermarks(consumer, [topic])
        ends = {p: high for (_, p), (low, high) in marks.items() if high > low}
        consumer.assign([TopicPartition(topic, p, low) for (_, p), (low, _) in marks.items()])
        records: list[Record] = []
        while ends:
            for message in next_batch(consumer):
                if message.error() is not None:
                    continue
                record = Record.of(message)
                records.append(record)
                if record.partition in ends and record.offset + 1 >= ends[record.partition]:
                    del ends[record.partition]
        return records
    finally:
        consumer.close()


def read_record(bootstrap: str, topic: str, partition: int, offset: int) -> Record | None:
    """The record at (partition, offset), or None when there is none (blocking)."""
    consumer = open_consumer(bootstrap, "parley-record-reader")
    try:
        low, high = watermarks(consumer, [topic]).get((topic, partition), (0, 0))
        if not low <= offset < high:
            return None
        consumer.assign([TopicPartition(topic, partition, offset)])
        for _ in range(100):
            message: Any = consumer.poll(0.1)
            if message is not None and message.error() is None:
                if message.offset() != offset:
                    return None  # compacted away
                return Record.of(message)
        return None
    finally:
        consumer.close()
