"""Replay: every read model rebuilt from offset 0 into a fresh keyspace by the projector's own
code (`Projector` over `CassandraProjectionStore`), fed by a plain consumer, not Faust.

The replay reads each partition up to the end it had when the replay started, so it rebuilds
the read models of a fixed prefix of the log; run against a quiet log (or compare once the live
projector has reached the same ends) and `parley audit diff` reports zero differences. It
publishes no per-user notices: users were told when the events happened. A replay into a
keyspace it wrote before resumes after the positions stored there (the position guard makes
re-applying harmless either way).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from infra.local import migrations
from parley.adapters.cassandra import connect_configured
from parley.adapters.cassandra_projection_store import CassandraProjectionStore
from parley.adapters.kafka_backlog import BacklogSpan, KafkaBacklog
from parley.config import Settings
from parley.domain.read_models import PROJECTOR_NAME
from streams.projector import Projector

log = logging.getLogger(__name__)

BATCH_MAX = 40_000  # as the live projector's catch-up batches: large batches coalesce rows


class ReplayRefused(Exception):
    """The target keyspace must not be replayed into."""


@dataclass(frozen=True)
class ReplayReport:
    keyspace: str
    topic: str
    span: BacklogSpan  # what was read: first offset and end per partition
    events: int
    undecodable: int  # records that are not Parley events (skipped, as the projector does)
    seconds: float

    @property
    def events_per_s(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0


async def replay(
    settings: Settings,
    keyspace: str,
    on_start: Callable[[BacklogSpan], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> ReplayReport:
    """Creates `keyspace` with the migrations if needed, then folds the backlog into it."""
    if keyspace == settings.cassandra_keyspace:
        raise ReplayRefused(
            f"{keyspace} is the live keyspace (PARLEY_CASSANDRA_KEYSPACE): replay into a new one"
        )
    cluster, session = await asyncio.to_thread(connect_configured, settings, None)
    try:
        await asyncio.to_thread(
            migrations.apply,
            session,
            keyspace,
            replication_factor=settings.cassandra_replication_factor,
        )
        await asyncio.to_thread(session.set_keyspace, keyspace)
        store = await asyncio.to_thread(CassandraProjectionStore, session)
        topic = settings.topic_conversation_events
        applied = await store.positions(PROJECTOR_NAME, topic)
        backlog = KafkaBacklog(
            settings.kafka_bootstrap,
            topic,
            client_id=f"parley-replay-{keyspace}",
            start_at={partition: offset + 1 for partition, offset in applied.items()},
        )
        span = await asyncio.to_thread(backlog.open)
        if on_start is not None:
            on_start(span)
        try:
            started = time.perf_counter()
            events = await _fold(Projector(store, topic), backlog, on_progress)
            seconds = time.perf_counter() - started
        finally:
            await asyncio.to_thread(backlog.close)
        return ReplayReport(keyspace, topic, span, events, backlog.undecodable, seconds)
    finally:
        await asyncio.to_thread(cluster.shutdown)


async def _fold(
    projector: Projector, backlog: KafkaBacklog, on_progress: Callable[[int], None] | None
) -> int:
    """Applies the backlog batch by batch; the reader thread decodes the next meanwhile."""
    events, skipped = 0, 0
    while (batch := await backlog.take(BATCH_MAX)) is not None:
        stats = await projector.apply(batch)
        events += len(batch)
        log.info("replayed %s", stats)
        if on_progress is not None:
            on_progress(len(batch) + backlog.undecodable - skipped)
        skipped = backlog.undecodable
    return events
