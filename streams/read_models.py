"""The read-model agent: conversation events -> batches -> Projector, intake overlapping writes."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Sequence
from typing import Any

import faust

from parley import heap
from parley.adapters.cassandra import connect
from parley.adapters.cassandra_read_models import CassandraProjectionStore
from parley.adapters.wire import UndecodableEvent, decode_event
from parley.config import Settings
from parley.domain.events import Logged, Position
from streams.notices import KafkaNoticeSink
from streams.projector import Projector

log = logging.getLogger(__name__)

BATCH_MAX = 40_000  # events per batch when catching up: bigger batches coalesce more rows
BATCH_SMALL = 200  # below this many waiting events, a batch waits BATCH_WINDOW_S for more
BATCH_WINDOW_S = 0.02  # live: bounds the extra latency of gathering a batch


class Intake:
    """Events Faust handed over and the projector has not taken yet.

    Faust keeps filling it while the projector writes the previous batch, so fetching and
    writing overlap; the projector takes whatever is waiting (up to BATCH_MAX), so batches are
    large while catching up and small, hence fast, when live. Bounded: `put` waits while a
    full batch is waiting, which back-pressures Faust's consumer.
    """

    def __init__(self, limit: int = BATCH_MAX) -> None:
        self._limit = limit
        self._events: list[Any] = []
        self._waiting = asyncio.Event()
        self._room = asyncio.Event()
        self._room.set()
        self._closed = False

    async def put(self, event: Any) -> None:
        self._events.append(event)
        self._waiting.set()
        if len(self._events) >= self._limit:
            self._room.clear()
            await self._room.wait()  # close() opens it too: the agent then sees the writer done

    async def take(self) -> list[Any]:
        await self._waiting.wait()
        if len(self._events) < BATCH_SMALL:
            await asyncio.sleep(BATCH_WINDOW_S)
        batch, self._events = self._events[: self._limit], self._events[self._limit :]
        if not self._events:
            self._waiting.clear()
        self._room.set()
        return batch

    def close(self) -> None:
        self._closed = True
        self._room.set()


def decode_batch(events: Sequence[Any]) -> list[Logged]:
    """Logged events of a Faust batch; undecodable records are skipped (they stay in the log)."""
    batch: list[Logged] = []
    for event in events:
        message = event.message
        try:
            logged_event = decode_event(message.value)
        except UndecodableEvent:
            log.exception("skipped an undecodable record at %s", message.tp)
            continue
        batch.append(
            Logged(logged_event, Position(message.partition, message.offset), message.topic)
        )
    return batch


async def write_batches(intake: Intake, target: Projector, stream: Any) -> None:
    """Applies batches in log order; acks their events only once Cassandra has them."""
    try:
        while True:
            events = await intake.take()
            started = time.perf_counter()
            stats = await target.apply(decode_batch(events))
            for event in events:
                await stream.ack(event)
            log.info("projected %s in %.0f ms", stats, (time.perf_counter() - started) * 1000)
    finally:
        intake.close()


def install(app: faust.App, settings: Settings) -> None:
    """Registers the agent on the conversation topic and the rebalance hook."""
    source = app.topic(settings.topic_conversation_events, internal=False)
    holder: dict[str, Projector] = {}

    async def projector() -> Projector:
        if "p" not in holder:
            _, session = await asyncio.to_thread(
                connect, settings.cassandra_hosts, settings.cassandra_port,
                settings.cassandra_keyspace, consistency=settings.cassandra_consistency,
            )  # fmt: skip
            store = await asyncio.to_thread(CassandraProjectionStore, session)
            notices = KafkaNoticeSink(settings.kafka_bootstrap, settings.topic_user_updates)
            holder["p"] = Projector(store, source.get_topic_name(), notices)
        return holder["p"]

    @app.agent(source, name="read_models")
    async def read_models(stream: Any) -> AsyncIterator[None]:
        target = await projector()
        # The Faust worker leaves the root logger at DEBUG under `--loglevel warn` (its handler
        # filters): aiokafka then built a log record for every fetch. Use the level we were given.
        logging.getLogger().setLevel(settings.log_level)
        heap.settle()
        manual = stream.noack()  # events are acked by write_batches, after they are stored
        intake = Intake()
        writer = asyncio.ensure_future(write_batches(intake, target, manual))
        try:
            async for event in manual.events():
                if writer.done():
                    break
                await intake.put(event)
            if writer.done():
                writer.result()  # raises what stopped the writer
        finally:
            writer.cancel()
        yield  # pragma: no cover (an agent must be a generator to be a Faust agent)

    @app.on_partitions_revoked.connect
    async def forget_states(sender: Any, /, *_: Any, signal: Any, **__: Any) -> None:
        if "p" in holder:
            holder["p"].forget()
