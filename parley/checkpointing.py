"""Restoring a fold from its newest usable checkpoint, and sealing new ones (DESIGN decision 11)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from parley import metrics
from parley.adapters.cassandra import connect_configured
from parley.adapters.cassandra_checkpoints import CassandraCheckpointStore
from parley.adapters.kafka_feed import log_ends
from parley.config import Settings
from parley.domain.checkpoints import Checkpoint, CheckpointUnusable, Unusable, seal, unseal
from parley.ports import CheckpointStore

log = logging.getLogger(__name__)

F = TypeVar("F")
KEPT = 3  # checkpoints kept per fold; older ones are deleted once a newer one is stored


async def restore_newest(
    store: CheckpointStore | None,
    fold: str,
    topic: str,
    log_ends: Mapping[int, int],
    build: Callable[[Any], F],
) -> tuple[F | None, dict[int, int]]:
    """The fold built from the newest usable checkpoint and the positions it covers, or
    (None, {}) to fold from offset 0. Each checkpoint passed over is logged with its reason
    and counted in parley_checkpoint_restores_total; `build` makes a fresh fold, so a document
    it cannot read leaves nothing half-restored."""
    if store is None:
        return None, {}
    try:
        ids = await store.ids(fold)
    except Exception as error:  # the store is down: folding from 0 is slow but right
        log.warning("checkpoint store unavailable, folding %s from offset 0: %r", fold, error)
        metrics.CHECKPOINT_RESTORES.labels(fold=fold, outcome="store_unavailable").inc()
        return None, {}
    for checkpoint_id in ids:
        try:
            checkpoint = await store.load(fold, checkpoint_id)
            if checkpoint is None:
                raise CheckpointUnusable(Unusable.MISSING, "listed but its bytes are incomplete")
            _check_within(checkpoint, log_ends)
            restored = build(unseal(checkpoint, fold, topic))
        except (CheckpointUnusable, KeyError, TypeError, ValueError) as error:
            reason = error.reason.value if isinstance(error, CheckpointUnusable) else "unreadable"
            log.warning("checkpoint %s/%s skipped: %s", fold, checkpoint_id, error)
            metrics.CHECKPOINT_RESTORES.labels(fold=fold, outcome=reason).inc()
            continue
        log.info(
            "restored %s from checkpoint %s (%d events covered)",
            fold, checkpoint_id, checkpoint.events_covered,
        )  # fmt: skip
        metrics.CHECKPOINT_RESTORES.labels(fold=fold, outcome="restored").inc()
        return restored, checkpoint.positions
    log.info("no usable checkpoint of %s: folding from offset 0", fold)
    metrics.CHECKPOINT_RESTORES.labels(fold=fold, outcome="none").inc()
    return None, {}


def _check_within(checkpoint: Checkpoint, log_ends: Mapping[int, int]) -> None:
    # A position past the log's end means another incarnation of the topic (it was deleted and
    # made again): the checkpoint describes events this log does not hold.
    for partition, offset in checkpoint.positions.items():
        if offset > log_ends.get(partition, 0):
            raise CheckpointUnusable(
                Unusable.AHEAD, f"partition {partition} at {offset}, the log ends before it"
            )


async def store_checkpoint(
    store: CheckpointStore, fold: str, topic: str, positions: Mapping[int, int], document: Any
) -> Checkpoint:
    """Seals and stores a checkpoint, then deletes all but the newest KEPT of the fold."""
    newest = (await store.ids(fold))[:1]
    # Ids order a fold's checkpoints: the sealing time, kept above the newest one stored.
    checkpoint_id = max([time.time_ns() // 1_000_000, *(i + 1 for i in newest)])
    checkpoint = seal(fold, checkpoint_id, topic, dict(positions), document)
    await store.save(checkpoint)
    for old in (await store.ids(fold))[KEPT:]:
        await store.delete(fold, old)
    return checkpoint


async def restore_with_settings(
    settings: Settings, fold: str, build: Callable[[Any], F], session: Any = None
) -> tuple[F | None, dict[int, int]]:
    """restore_newest over the configured Cassandra and Kafka; `session` (bound to the
    read-model keyspace) is used when given, else one is opened for the restore only."""
    topic = settings.topic_conversation_events
    ends = await asyncio.to_thread(log_ends, settings.kafka_bootstrap, topic)
    cluster = None
    try:
        if session is None:
            cluster, session = await asyncio.to_thread(connect_configured, settings)
        store = CassandraCheckpointStore(session)
    except Exception as error:
        log.warning("checkpoint store unavailable, folding %s from offset 0: %r", fold, error)
        metrics.CHECKPOINT_RESTORES.labels(fold=fold, outcome="store_unavailable").inc()
        store = None
    try:
        return await restore_newest(store, fold, topic, ends, build)
    finally:
        if cluster is not None:
            await asyncio.to_thread(cluster.shutdown)
