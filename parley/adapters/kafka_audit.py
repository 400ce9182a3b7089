"""One conversation's events from Kafka (confluent-kafka): only the partition its key maps to,
between offsets resolved from offsets or times (the broker's time index), filtered by key."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from types import TracebackType

from confluent_kafka import Consumer, Message, TopicPartition

from parley.adapters.kafka import partition_for
from parley.adapters.kafka_feed import METADATA_TIMEOUT_S, watermarks
from parley.adapters.wire import UndecodableEvent, decode_event
from parley.adapters.wire_audit import wire_record
from parley.domain.audit_bounds import Bound, OffsetBound
from parley.domain.audit_records import Plain
from parley.domain.events import Logged, Position
from parley.ports import EventLogUnavailable

log = logging.getLogger(__name__)

CHUNK = 20_000  # records per consume() call
WAIT_S = 1.0


@dataclass(frozen=True)
class ConversationSpan:
    """The offsets of the conversation's partition to read: [start, end)."""

    topic: str
    partition: int
    start: int
    end: int
    low: int  # the partition's first offset still held, and its end, when resolved
    high: int


class KafkaConversationLog:
    """Reads one conversation's events in log order. A conversation's events are all in one
    partition (DESIGN decision 2); only that partition is fetched, from the first offset the
    bounds allow, so an audit of one conversation never reads the rest of the log."""

    def __init__(self, bootstrap: str, topic: str, client_id: str = "parley-audit") -> None:
        self.topic = topic
        self._consumer = Consumer(
            {
                "bootstrap.servers": bootstrap,
                "client.id": client_id,
                "group.id": client_id,  # required by the client; never joined or committed
                "enable.auto.commit": False,
                "enable.auto.offset.store": False,
                "fetch.wait.max.ms": 10,
                # Bulk reads of one partition: measured here, 64 MiB fetches read a partition
                # at ~600,000 records/s, librdkafka's defaults (1 MiB) at ~150,000.
                "max.partition.fetch.bytes": 64 * 1024 * 1024,
                "fetch.max.bytes": 128 * 1024 * 1024,
                "receive.message.max.bytes": 200 * 1024 * 1024,
                "logger": logging.getLogger("librdkafka.consumer"),
            }
        )
        try:
            self._marks = watermarks(self._consumer, [topic])
        except BaseException:
            self._consumer.close()
            raise

    def __enter__(self) -> KafkaConversationLog:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._consumer.close()

    @property
    def partitions(self) -> int:
        return len(self._marks)

    def span(
        self, key: str, start: Bound | None, end: Bound | None, partition: int | None = None
    ) -> ConversationSpan:
        """Offsets of `key`'s partition from `start` to `end`, both inclusive: an offset bound
        is that offset, a time bound the records the log timestamped at or before/after it.
        `partition` overrides the key's (a log written by a producer with another partitioner)."""
        if partition is None:
            partition = partition_for(key, self.partitions)
        low, high = self._marks[(self.topic, partition)]
        first = low if start is None else max(low, self._offset_at(partition, start, high, 0))
        stop = high if end is None else min(high, self._offset_at(partition, end, high, 1))
        return ConversationSpan(self.topic, partition, first, max(first, stop), low, high)

    def _offset_at(self, partition: int, bound: Bound, high: int, after: int) -> int:
        """The first offset at `bound` (after=0) or just past it (after=1)."""
        if isinstance(bound, OffsetBound):
            return bound.offset + after
        wanted = TopicPartition(self.topic, partition, bound.time_ms + after)
        (found,) = self._consumer.offsets_for_times([wanted], timeout=METADATA_TIMEOUT_S)
        if found.error is not None:
            raise EventLogUnavailable(f"offsets_for_times failed: {found.error}")
        return high if found.offset < 0 else int(found.offset)  # none that late: the end

    def read(self, key: str, span: ConversationSpan) -> Iterator[tuple[Logged, int]]:
        """(event, the log's timestamp in ms) for each event of `key` in the span, in order;
        records that are not Parley events are skipped with a log line."""
        for value, offset, log_time_ms in self._values(key, span):
            try:
                event = decode_event(value)
            except UndecodableEvent:
                _skipped(span, offset)
                continue
            yield Logged(event, Position(span.partition, offset), span.topic), log_time_ms

    def records(self, key: str, span: ConversationSpan) -> Iterator[Plain]:
        """The audit record (`trail_record`) of each event of `key` in the span, in order, read
        from the wire form without decoding domain events; records that are not Parley events
        are skipped with a log line."""
        partition = span.partition
        for value, offset, log_time_ms in self._values(key, span):
            try:
                yield wire_record(value, partition, offset, log_time_ms)
            except UndecodableEvent:
                _skipped(span, offset)

    def _values(self, key: str, span: ConversationSpan) -> Iterator[tuple[bytes, int, int]]:
        """(value, offset, log time in ms) of each record keyed `key` in the span, in order."""
        if span.start >= span.end:
            return
        wanted, end = key.encode(), span.end
        self._consumer.assign([TopicPartition(span.topic, span.partition, span.start)])
        try:
            at = span.start
            while at < end:
                # Offsets are contiguous: asking for exactly what is left returns at once at
                # the end of the span instead of waiting out the timeout for a full chunk.
                batch = self._consumer.consume(min(CHUNK, end - at), WAIT_S)
                for record in batch:
                    # Most records are other conversations': their key is all that is read.
                    if record.key() != wanted or record.error() is not None:
                        continue
                    offset = record.offset()
                    assert offset is not None
                    if offset >= end:
                        break
                    yield record.value() or b"", offset, record.timestamp()[1]
                at = max(at, _next_offset(batch))
        finally:
            self._consumer.unassign()


def _next_offset(batch: list[Message]) -> int:
    """The offset after the batch's last record (0 when it holds none)."""
    for record in reversed(batch):
        offset = record.offset()
        if record.error() is None and offset is not None:
            return offset + 1
    return 0


def _skipped(span: ConversationSpan, offset: int) -> None:
    log.exception("skipped an undecodable record at p%s@%s", span.partition, offset)
