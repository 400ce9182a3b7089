"""EventConsumer: a Kafka consumer group over Parley's event topics, committing after handling."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from confluent_kafka import OFFSET_END, Consumer, KafkaException, Message, TopicPartition

from parley.adapters.kafka_feed import decoded, next_batch, place
from parley.domain.events import Event
from parley.integration.start import StartAt

log = logging.getLogger(__name__)

BATCH = 500
POLL_S = 0.2


@dataclass(frozen=True, slots=True)
class Delivered:
    """One event and where it is in the log. At least once: the same event may come again
    (after a restart, a rebalance, or a producer retry); `event.event_id` identifies it."""

    event: Event
    topic: str
    partition: int
    offset: int
    value: bytes  # the parley.v1.Event bytes, for services that forward them untouched


Handler = Callable[[Delivered], Awaitable[None]]
BatchHandler = Callable[[list[Delivered]], Awaitable[None]]


class EventConsumer:
    """Reads `topics` (holding parley.v1.Event records) as consumer group `group_id`.

    At least once: a batch's offsets are committed only after its handler returned; when the
    handler raises, nothing of the batch is committed and the consumer stops with the error,
    so a restart hands the batch again. Records of one conversation come in log order (one
    partition each); a partition is only read by one member of the group at a time.
    Records that are not a decodable Event (a type newer than this library) are skipped.
    """

    def __init__(
        self,
        bootstrap: str,
        group_id: str,
        topics: Sequence[str],
        start: StartAt,
        *,
        client_id: str | None = None,
        config: dict[str, Any] | None = None,
    ) -> None:
        self._topics = list(topics)
        self._start = start
        self._placed: set[tuple[str, int]] = set()
        self._stopping = asyncio.Event()
        self._config: dict[str, Any] = {
            "bootstrap.servers": bootstrap,
            "group.id": group_id,
            "client.id": client_id or group_id,
            "enable.auto.commit": False,
            "auto.offset.reset": start.fallback if start.kind == "committed" else "earliest",
            "partition.assignment.strategy": "cooperative-sticky",
            "reconnect.backoff.max.ms": 1000,
            "logger": logging.getLogger("librdkafka.integration"),
        } | (config or {})
        self.assigned: asyncio.Event = asyncio.Event()

    def stop(self) -> None:
        """Finish the batch in hand, commit it, leave the group; `run` then returns."""
        self._stopping.set()

    async def run(self, handler: Handler, *, handle_signals: bool = True) -> None:
        """Hands every event to `handler`, one at a time, in log order per partition."""

        async def each(batch: list[Delivered]) -> None:
            for delivered in batch:
                await handler(delivered)

        await self.run_batches(each, handle_signals=handle_signals)

    async def run_batches(self, handler: BatchHandler, *, handle_signals: bool = True) -> None:
        """Like `run`, with up to 500 events at once (in log order per partition), for handlers
        that work on several conversations concurrently."""
        loop = asyncio.get_running_loop()
        if handle_signals:
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(signum, self.stop)
        consumer = Consumer(self._config)
        try:
            consumer.subscribe(
                self._topics,
                on_assign=lambda c, parts: self._on_assign(c, parts, loop),
            )
            while not self._stopping.is_set():
                records = await asyncio.to_thread(next_batch, consumer, POLL_S, BATCH)
                batch = self._decode(records)
                if batch:
                    await handler(batch)
                if records:
                    await asyncio.to_thread(self._commit, consumer, records)
        finally:
            if handle_signals:
                for signum in (signal.SIGTERM, signal.SIGINT):
                    loop.remove_signal_handler(signum)
            await asyncio.to_thread(consumer.close)

    def _on_assign(
        self, consumer: Consumer, parts: list[TopicPartition], loop: asyncio.AbstractEventLoop
    ) -> None:
        fresh = [tp for tp in parts if (tp.topic, tp.partition) not in self._placed]
        if fresh and self._start.kind == "time":
            wanted = [TopicPartition(tp.topic, tp.partition, self._start.time_ms) for tp in fresh]
            for found in consumer.offsets_for_times(wanted, timeout=10):
                # -1: nothing at or after that moment yet: start at the end.
                self._place(parts, found, found.offset if found.offset >= 0 else OFFSET_END)
        elif fresh and self._start.kind != "committed":
            for tp in fresh:
                self._place(parts, tp, self._start.offset_code())
        self._placed.update((tp.topic, tp.partition) for tp in parts)
        consumer.incremental_assign(parts)
        loop.call_soon_threadsafe(self.assigned.set)

    @staticmethod
    def _place(parts: list[TopicPartition], target: TopicPartition, offset: int) -> None:
        for tp in parts:
            if (tp.topic, tp.partition) == (target.topic, target.partition):
                tp.offset = offset

    @staticmethod
    def _decode(records: list[Message]) -> list[Delivered]:
        return [
            Delivered(event, *place(record), record.value() or b"")
            for record, event in decoded(records)
            if event is not None
        ]

    @staticmethod
    def _commit(consumer: Consumer, records: list[Message]) -> None:
        ends: dict[tuple[str, int], int] = {}
        for record in records:
            if record.error() is None:
                ends[(record.topic() or "", record.partition() or 0)] = (record.offset() or 0) + 1
        if not ends:
            return
        try:
            consumer.commit(
                offsets=[TopicPartition(t, p, o) for (t, p), o in ends.items()],
                asynchronous=False,
            )
        except KafkaException as error:
            # A partition revoked meanwhile: its new owner resumes from the last commit and
            # hands these events again (at least once).
            log.warning("commit failed, events will be handed again: %s", error)
