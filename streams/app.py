"""The Faust app of the projectors: the only place that picks concrete adapters for streams/."""

from __future__ import annotations

import asyncio
import logging
import tempfile
from pathlib import Path
from typing import Any

import faust
from faust.transport.drivers import aiokafka as faust_aiokafka

from parley import heap, metrics
from parley.adapters.cassandra import connect_configured
from parley.adapters.cassandra_projection_store import CassandraProjectionStore
from parley.adapters.kafka_notices import KafkaNoticeSink
from parley.config import Settings
from streams.projector import Projector

# Faust fetches with aiokafka's defaults: the broker answers a fetch as soon as one record is
# there, so under live load the projector paid Faust's fetch-and-dispatch round for nearly
# every event (36% of a core at 400 events/s). Busy, it asks for 64 KB or 50 ms per fetch
# instead: 20% at 400/s, for at most 50 ms more projection lag. Quiet, that same setting had
# the broker answer an empty fetch 20 times a second (the largest part of an idle stack's CPU),
# so below BUSY_EVENTS_PER_S the broker answers at the first record and holds an empty fetch
# 500 ms (FetchTuning, switched by the agent). Not the 2 s of the other consumers
# (kafka_feed.IDLE_FETCH_WAIT_MS): with 2 s here, a delivery node restored from a checkpoint
# waited 8 s instead of 3 s in the tests for the projected rows its gap fill reads.
FETCH_MIN_BYTES = 64 * 1024
FETCH_MAX_WAIT_MS = 50
QUIET_FETCH_MIN_BYTES = 1
QUIET_FETCH_MAX_WAIT_MS = 500
BUSY_EVENTS_PER_S = 100


class FetchTuning:
    """The fetch sizes of the worker's consumer: busy (batches) or quiet (idle-cheap).

    aiokafka puts its fetcher's two values into every FetchRequest it builds, so a change takes
    effect at the next fetch. The consumer runs in Faust's consumer thread; the values are two
    ints, replaced whole."""

    def __init__(self) -> None:
        self._consumers: list[Any] = []
        self.busy = True

    def add(self, consumer: Any) -> None:
        self._consumers.append(consumer)
        self._apply(consumer)

    def observe(self, events_per_s: float) -> None:
        """Busy from BUSY_EVENTS_PER_S events a second on, quiet below."""
        self.set_busy(events_per_s >= BUSY_EVENTS_PER_S)

    def set_busy(self, busy: bool) -> None:
        metrics.PROJECTOR_FETCH_BUSY.set(1 if busy else 0)
        if busy != self.busy:
            self.busy = busy
            for consumer in self._consumers:
                self._apply(consumer)

    def _apply(self, consumer: Any) -> None:
        min_bytes, max_wait_ms = (
            (FETCH_MIN_BYTES, FETCH_MAX_WAIT_MS)
            if self.busy
            else (QUIET_FETCH_MIN_BYTES, QUIET_FETCH_MAX_WAIT_MS)
        )
        # The consumer's values seed the fetcher it starts; a started one has its own.
        for holder in (consumer, getattr(consumer, "_fetcher", None)):
            if holder is not None:
                holder._fetch_min_bytes = min_bytes
                holder._fetch_max_wait_ms = max_wait_ms


class _FetchingConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        # Faust passes no fetch sizes through; aiokafka reads these two when it starts its
        # fetcher and for every request after (checked against the pinned aiokafka by
        # tests/unit/streams).
        tuning: FetchTuning = self.consumer.app.fetch_tuning  # type: ignore[attr-defined]
        tuning.add(consumer)
        return consumer


class _FetchingConsumer(faust_aiokafka.Consumer):
    def _new_consumer_thread(self) -> _FetchingConsumerThread:
        return _FetchingConsumerThread(self, loop=self.loop, beacon=self.beacon)


class _Transport(faust_aiokafka.Transport):
    Consumer = _FetchingConsumer


class ProjectorApp(faust.App):
    """A Faust app whose consumer fetches in batches when busy (see FetchTuning)."""

    fetch_tuning: FetchTuning

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.fetch_tuning = FetchTuning()
        super().__init__(*args, **kwargs)

    def _new_transport(self) -> Any:
        return _Transport(self.conf.broker_consumer, self)


DEFAULT_APP_ID = "parley-projector"


def create_app(settings: Settings, app_id: str = DEFAULT_APP_ID) -> faust.App:
    """A Faust app on `settings.kafka_bootstrap` that declares no topics of its own.

    The broker has auto topic creation off, and Cassandra holds the projection state, so: no
    Faust tables (no changelog topics), no leader topic, no topic declaration, no web server.
    The consumer group is `app_id`; offsets are committed only for events the agent acked.
    """
    datadir = Path(tempfile.gettempdir()) / "parley-faust" / app_id  # unused: no tables
    datadir.mkdir(parents=True, exist_ok=True)
    return ProjectorApp(
        app_id,
        broker=f"kafka://{settings.kafka_bootstrap}",
        topic_allow_declare=False,
        topic_disable_leader=True,
        web_enabled=False,
        datadir=datadir,
        consumer_auto_offset_reset="earliest",
        # A worker that dies (kill -9, lost host) holds its partitions until its session
        # expires: 8 s bounds that outage, heartbeats every 2 s keep a live one in the group.
        broker_session_timeout=8.0,
        broker_heartbeat_interval=2.0,
        broker_rebalance_timeout=20.0,
        broker_commit_every=10_000,
        broker_commit_interval=1.0,
        stream_buffer_maxsize=16_384,
        broker_max_poll_records=10_000,
        producer_acks=-1,
        key_serializer="raw",
        value_serializer="raw",
    )


async def open_projector(settings: Settings) -> Projector:
    """The projector over Cassandra and Kafka, as the agent starts (connects in a thread)."""
    _, session = await asyncio.to_thread(connect_configured, settings)
    store = await asyncio.to_thread(CassandraProjectionStore, session)
    notices = KafkaNoticeSink(settings.kafka_bootstrap, settings.topic_user_updates)
    # The Faust worker leaves the root logger at DEBUG under `--loglevel warn` (its handler
    # filters): aiokafka then built a log record for every fetch. Use the level we were given.
    logging.getLogger().setLevel(settings.log_level)
    heap.settle()
    return Projector(store, settings.topic_conversation_events, notices)
