"""Checkpoints on the real engines: the writer seals both folds into Cassandra, a process
restores the newest usable one and folds only the tail, and the result equals a fold from 0."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from infra.local.migrations import apply as apply_migrations
from parley import metrics
from parley.adapters.cassandra import connect
from parley.adapters.cassandra_checkpoints import CassandraCheckpointStore
from parley.adapters.kafka import KafkaEventLog
from parley.adapters.kafka_admin import delete_topics, ensure_topics
from parley.adapters.kafka_feed import KafkaEventFeed
from parley.checkpointing import restore_with_settings
from parley.config import Settings
from parley.domain.checkpoints import canonical
from parley.domain.delivery_fold import DELIVERY_FOLD, DeliveryFold
from parley.domain.events import Logged
from parley.domain.log_streams import Stream, is_stored
from parley.domain.write_model import WRITE_MODEL_FOLD, WriteModel
from services.checkpoints.writer import write_checkpoints
from tests.unit.domain.test_checkpoints import history

pytestmark = pytest.mark.integration

FOLDS: list[tuple[str, Callable[[], Any], Callable[[Any], Any]]] = [
    (WRITE_MODEL_FOLD, WriteModel, WriteModel.from_document),
    (DELIVERY_FOLD, DeliveryFold, DeliveryFold.from_document),
]


class Applying:
    def __init__(self, fold: Any) -> None:
        self.fold = fold

    def apply(self, logged: Logged) -> None:
        self.fold.apply(logged)


@pytest.fixture
async def settings(
    kafka_bootstrap: str, cassandra_session: Any, unique_name: Callable[[str], str]
) -> AsyncIterator[Settings]:
    topic, keyspace = unique_name("ckpt"), unique_name("ckpt")
    ensure_topics(kafka_bootstrap, {topic: 3})
    apply_migrations(cassandra_session, keyspace)
    yield Settings(
        kafka_bootstrap=kafka_bootstrap,
        topic_conversation_events=topic,
        cassandra_keyspace=keyspace,
        checkpoint_every_events=40,
        checkpoint_interval_s=0.5,
    )
    delete_topics(kafka_bootstrap, [topic])
    cassandra_session.execute(f"DROP KEYSPACE IF EXISTS {keyspace}", timeout=120)


def events() -> list[Any]:
    """A generated log of every kind of event the folds read (stored ones: this topic)."""
    ops = [(kind, key, user, n) for n, (kind, key, user) in enumerate(_ops())]
    return [logged.event for logged in history(ops) if is_stored(logged.event)]


def _ops() -> list[tuple[str, str, str]]:
    # A fixed mix rather than a random draw: every kind on every conversation.
    kinds = ["send", "mention", "read", "recall", "join", "delivered", "leave", "delete"]
    keys = ["p:alice:bob", "g:team", "r:lobby", "p:carol:dave"]
    users = ["alice", "bob", "carol", "dave"]
    return [(kinds[i % 8], keys[i % 4], users[i % 3]) for i in range(150)]


async def append(settings: Settings, batch: list[Any]) -> None:
    log = KafkaEventLog(
        settings.kafka_bootstrap, {Stream.CONVERSATION_EVENTS: settings.topic_conversation_events}
    )
    await log.start()
    try:
        for event in batch:
            await log.append(event)
    finally:
        await log.close()


async def fold_from(settings: Settings, fold: Any, start_at: dict[int, int]) -> Any:
    feed = KafkaEventFeed(
        settings.kafka_bootstrap,
        Applying(fold),
        (settings.topic_conversation_events,),
        client_id=f"test-{uuid.uuid4().hex[:6]}",
        start_at=start_at,
    )
    await feed.start()
    try:
        await feed.wait_caught_up(60)
    finally:
        await feed.close()
    return fold


async def wait_sealed(settings: Settings, events_at_least: int) -> None:
    cluster, session = connect(["127.0.0.1"], 9042, settings.cassandra_keyspace)
    store = CassandraCheckpointStore(session)
    try:
        for _ in range(300):
            covered = []
            for name, _, _ in FOLDS:
                ids = await store.ids(name)
                newest = await store.load(name, ids[0]) if ids else None
                covered.append(newest.events_covered if newest else -1)
            if min(covered) >= events_at_least:
                return
            await asyncio.sleep(0.1)
        raise AssertionError(f"no checkpoint covering {events_at_least} events: {covered}")
    finally:
        cluster.shutdown()


def assert_same_fold(name: str, got: Any, want: Any) -> None:
    """Part by part, so a difference names the part (directory, messages, sends, media...)."""
    mine, theirs = got.to_document(), want.to_document()
    for part in theirs:
        assert canonical(mine[part]) == canonical(theirs[part]), (name, part)


async def append_and_seal(settings: Settings, logged: list[Any]) -> None:
    """Appends `logged` to an empty log and runs the checkpoint writer until both folds are
    sealed over all of it."""
    await append(settings, logged)
    stop = asyncio.Event()
    writer = asyncio.create_task(write_checkpoints(settings, stop))
    await wait_sealed(settings, len(logged))
    stop.set()
    await writer


def restored_count(fold: str, outcome: str) -> float:
    value = metrics.CHECKPOINT_RESTORES.labels(fold=fold, outcome=outcome)._value.get()
    return float(value)


async def test_checkpoints__restore_plus_tail_equals_a_fold_from_offset_zero(
    settings: Settings, cassandra_session: Any
) -> None:
    log = events()
    head, tail = log[: len(log) // 2], log[len(log) // 2 :]
    # The writer folds the first half and seals both folds.
    await append_and_seal(settings, head)
    # More events arrive after the checkpoint; a process starts.
    await append(settings, tail)
    for name, empty, from_document in FOLDS:
        before = restored_count(name, "restored")
        restored, start_at = await restore_with_settings(settings, name, from_document)
        assert restored is not None and sum(start_at.values()) >= len(head)
        assert restored_count(name, "restored") == before + 1
        await fold_from(settings, restored, start_at)
        assert_same_fold(name, restored, await fold_from(settings, empty(), {}))


async def test_checkpoints__a_corrupted_checkpoint_is_detected_and_skipped(
    settings: Settings, cassandra_session: Any
) -> None:
    await append_and_seal(settings, events())
    keyspace = settings.cassandra_keyspace
    for name, empty, from_document in FOLDS:
        # Every stored checkpoint of the fold gets one byte of its payload flipped.
        rows = cassandra_session.execute(
            f"SELECT checkpoint_id, chunk, data FROM {keyspace}.fold_checkpoint_chunks "
            "WHERE fold = %s ALLOW FILTERING",
            (name,),
        )
        for row in rows:
            spoiled = bytes([row.data[0] ^ 0xFF]) + row.data[1:]
            cassandra_session.execute(
                f"UPDATE {keyspace}.fold_checkpoint_chunks SET data = %s "
                "WHERE fold = %s AND checkpoint_id = %s AND chunk = %s",
                (spoiled, name, row.checkpoint_id, row.chunk),
            )
        skipped = restored_count(name, "checksum_mismatch")
        restored, start_at = await restore_with_settings(settings, name, from_document)
        assert (restored, start_at) == (None, {})
        assert restored_count(name, "checksum_mismatch") > skipped
        # Falling back to offset 0 still yields the right fold.
        again = await fold_from(settings, empty(), start_at)
        assert_same_fold(name, again, await fold_from(settings, empty(), {}))
