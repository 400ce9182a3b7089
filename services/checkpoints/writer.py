"""The checkpoint writer: folds the log as the ingress and delivery do, and seals checkpoints.

One process writes the checkpoints every other process restores from (DESIGN decision 11), so
sealing a big fold never pauses a process that serves clients. It is itself restored from the
newest checkpoints and reads only the tail. More than one may run: each writes the same folds
at its own positions, and every reader takes the newest usable one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Protocol

from parley import heap, metrics
from parley.adapters.cassandra import connect_configured
from parley.adapters.cassandra_checkpoints import CassandraCheckpointStore
from parley.adapters.kafka_feed import KafkaEventFeed, close_together
from parley.checkpointing import restore_with_settings, store_checkpoint
from parley.config import Settings
from parley.cpu import run_in_background
from parley.domain.delivery_fold import DELIVERY_FOLD, DeliveryFold
from parley.domain.events import Logged
from parley.domain.write_model import WRITE_MODEL_FOLD, WriteModel
from parley.observability import configure_logging
from parley.ports import CheckpointStore

log = logging.getLogger(__name__)

CATCH_UP_TIMEOUT_S = 3600.0
TICK_S = 1.0


class Fold(Protocol):
    def to_document(self) -> Any: ...


@dataclass
class Followed:
    """One fold, the feed that keeps it current, and what its last checkpoint covered."""

    name: str
    fold: Fold
    feed: KafkaEventFeed
    sealed_events: int = -1
    sealed_at: float = field(default_factory=time.monotonic)

    def events(self) -> int:
        return sum(self.feed.positions().values())


class _Applying:
    """A LoggedSink over a fold whose apply returns something (the delivery fold)."""

    def __init__(self, apply: Callable[[Logged], object]) -> None:
        self._apply = apply

    def apply(self, logged: Logged) -> None:
        self._apply(logged)


async def follow(
    settings: Settings, name: str, build: Callable[[Any], Any], empty: Any
) -> Followed:
    restored, start_at = await restore_with_settings(settings, name, build)
    fold = restored if restored is not None else empty
    feed = KafkaEventFeed(
        settings.kafka_bootstrap,
        _Applying(fold.apply),
        (settings.topic_conversation_events,),
        client_id=f"parley-checkpoints-{name}",
        start_at=start_at,
    )
    await feed.start()
    followed = Followed(name, fold, feed)
    followed.sealed_events = followed.events() if restored is not None else -1
    return followed


def is_due(followed: Followed, settings: Settings, now: float) -> bool:
    events = followed.events()
    if events <= max(followed.sealed_events, 0):
        return False
    return (
        events - max(followed.sealed_events, 0) >= settings.checkpoint_every_events
        or now - followed.sealed_at >= settings.checkpoint_interval_s
    )


async def seal_one(followed: Followed, store: CheckpointStore, topic: str) -> None:
    # The document and the positions are taken together on the loop thread, between two
    # handovers of the feed, so the document covers exactly the events before the positions.
    positions = followed.feed.positions()
    document = followed.fold.to_document()
    checkpoint = await store_checkpoint(store, followed.name, topic, positions, document)
    followed.sealed_events = sum(positions.values())
    followed.sealed_at = time.monotonic()
    metrics.CHECKPOINTS_WRITTEN.labels(fold=followed.name).inc()
    log.info(
        "checkpoint sealed",
        extra={"fold": followed.name, "events": followed.sealed_events,
               "bytes": len(checkpoint.payload), "checkpoint_id": checkpoint.checkpoint_id},
    )  # fmt: skip


async def write_checkpoints(settings: Settings, stop: asyncio.Event) -> None:
    topic = settings.topic_conversation_events
    windows = settings.fold_windows()
    followed = [
        await follow(
            settings,
            WRITE_MODEL_FOLD,
            partial(WriteModel.from_document, windows=windows),
            WriteModel(windows=windows),
        ),
        await follow(
            settings,
            DELIVERY_FOLD,
            partial(DeliveryFold.from_document, windows=windows),
            DeliveryFold(windows),
        ),
    ]
    cluster, session = await asyncio.to_thread(connect_configured, settings)
    store = CassandraCheckpointStore(session)
    heap.settle()
    try:
        while not stop.is_set():
            for one in followed:
                if is_due(one, settings, time.monotonic()):
                    try:
                        await seal_one(one, store, topic)
                    except Exception:  # the store is down: try again next tick
                        log.exception("checkpoint of %s not stored", one.name)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), TICK_S)
    finally:
        await close_together(*(one.feed.close() for one in followed))
        await asyncio.to_thread(cluster.shutdown)


async def main(settings: Settings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await write_checkpoints(settings, stop)


def run(settings: Settings) -> int:
    """Runs in the background CPU class (as the media server does, parley.cpu): checkpoints are
    never urgent, so when the CPU is short the kernel runs the message path first and the writer
    falls behind the log instead; it catches up when the load drops."""
    configure_logging("checkpoints", settings.log_level)
    placement = run_in_background()
    log.info("checkpoint writer in the background CPU class", extra={"placement": placement})
    asyncio.run(main(settings))
    return 0
