"""Harness of the projection integration tests: per-test topics and keyspace, a worker process."""

from __future__ import annotations

import asyncio
import hashlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaConsumer, TopicPartition

from infra.local.migrations import apply as apply_migrations
from parley.adapters.kafka import KafkaEventLog
from parley.adapters.kafka_admin import delete_topics, ensure_topics
from parley.domain.events import Event
from tests.integration.ingress_harness import Ingress, IngressFactory, Topics

ROOT = Path(__file__).resolve().parents[2]
READ_MODEL_TABLES = {
    "messages_by_conversation": "conversation_key, seq",
    "messages_by_id": "message_id",
    "conversation_heads": "conversation_key",
    "conversations_by_user": "user_id, conversation_key",
    "mentions_by_user": "user_id, conversation_key, seq",
    "mention_all_by_conversation": "conversation_key, seq",
    "readers_by_message": "conversation_key, seq, reader_id",
    "projection_state_by_conversation": "conversation_key",
    "media_by_object": "object_id",
    "media_attachments_by_object": "object_id, message_id",
    "media_objects_by_message": "message_id, object_id",
    "media_objects_by_room": "conversation_key, object_id, message_id",
}


@dataclass
class ProjectionEnv:
    bootstrap: str
    topic: str
    updates_topic: str
    keyspace: str
    app_id: str
    session: Any
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def env(self, keyspace: str | None = None) -> dict[str, str]:
        return os.environ | {
            "PARLEY_KAFKA_BOOTSTRAP": self.bootstrap,
            "PARLEY_TOPIC_CONVERSATION_EVENTS": self.topic,
            "PARLEY_TOPIC_USER_UPDATES": self.updates_topic,
            "PARLEY_CASSANDRA_KEYSPACE": keyspace or self.keyspace,
            "PARLEY_LOG_LEVEL": "WARNING",
            "PARLEY_PROJECTOR_METRICS_PORT": "0",  # tests that scrape one pass their own
        }

    def start_worker(
        self, app_id: str | None = None, keyspace: str | None = None, **env: str
    ) -> Any:
        worker = subprocess.Popen(
            [sys.executable, "-m", "streams", "--app-id", app_id or self.app_id],
            cwd=ROOT,
            env=self.env(keyspace) | env,
            stdout=subprocess.DEVNULL,
            stderr=open(ROOT / "var" / f"{app_id or self.app_id}.log", "ab"),  # noqa: SIM115
        )
        self.workers.append(worker)
        return worker

    def kill(self, worker: Any, sig: int = signal.SIGKILL) -> None:
        worker.send_signal(sig)
        worker.wait(30)

    def stop_all(self) -> None:
        for worker in self.workers:
            if worker.poll() is None:
                self.kill(worker)

    async def produce(self, events: Sequence[Event]) -> None:
        log = KafkaEventLog(self.bootstrap)
        try:
            for start in range(0, len(events), 500):
                await log.append_many(events[start : start + 500], topic=self.topic)
        finally:
            await log.close()

    def end_offsets(self) -> dict[int, int]:
        consumer = KafkaConsumer(bootstrap_servers=self.bootstrap)
        try:
            parts = [
                TopicPartition(self.topic, p) for p in consumer.partitions_for_topic(self.topic)
            ]
            return {tp.partition: offset for tp, offset in consumer.end_offsets(parts).items()}
        finally:
            consumer.close()

    def applied(self, keyspace: str | None = None) -> dict[int, int]:
        rows = self.session.execute(
            f"SELECT topic, partition, applied_offset FROM {keyspace or self.keyspace}"
            ".projection_positions WHERE projector = 'read_models'"
        )
        return {r.partition: r.applied_offset for r in rows if r.topic == self.topic}

    async def wait_applied(self, timeout_s: float = 60, keyspace: str | None = None) -> float:
        """Waits until every non-empty partition is applied up to its end; returns seconds."""
        ends = {p: end - 1 for p, end in self.end_offsets().items() if end > 0}
        started = time.monotonic()
        while time.monotonic() - started < timeout_s:
            applied = self.applied(keyspace)
            if all(applied.get(p, -1) >= end for p, end in ends.items()):
                return time.monotonic() - started
            for worker in self.workers:
                assert worker.poll() in (None, -9, -15), f"worker exited with {worker.returncode}"
            await asyncio.sleep(0.1)
        raise TimeoutError(f"not applied within {timeout_s} s: {self.applied(keyspace)} < {ends}")

    async def assert_replay_identical(self, fresh: str) -> None:
        """A new worker replays the topic from offset 0 into the fresh keyspace `fresh` (also its
        app id): every read-model table ends byte for byte as the live one."""
        live = table_checksums(self.session, self.keyspace)
        apply_migrations(self.session, fresh)
        try:
            self.start_worker(app_id=fresh, keyspace=fresh)
            await self.wait_applied(keyspace=fresh)
            assert table_checksums(self.session, fresh) == live
        finally:
            self.session.execute(f"DROP KEYSPACE IF EXISTS {fresh}")


def table_checksums(session: Any, keyspace: str) -> dict[str, str]:
    """sha256 of every read-model table's rows, sorted by primary key (byte-level values)."""
    sums = {}
    for table in READ_MODEL_TABLES:
        rows = sorted(
            repr(tuple(row)) for row in session.execute(f"SELECT * FROM {keyspace}.{table}")
        )
        sums[table] = hashlib.sha256("\n".join(rows).encode()).hexdigest()
    return sums


@pytest.fixture(name="projection_env")
def projection_env_fixture(
    kafka_bootstrap: str, cassandra_session: Any, unique_name: Callable[[str], str]
) -> Iterator[ProjectionEnv]:
    topic, updates = unique_name("conv"), unique_name("updates")
    ensure_topics(kafka_bootstrap, {topic: 3, updates: 3})
    keyspace = unique_name("proj")
    apply_migrations(cassandra_session, keyspace)
    env = ProjectionEnv(
        kafka_bootstrap, topic, updates, keyspace, unique_name("app"), cassandra_session
    )
    try:
        yield env
    finally:
        env.stop_all()
        delete_topics(kafka_bootstrap, [topic, updates])
        cassandra_session.execute(f"DROP KEYSPACE IF EXISTS {keyspace}")


@pytest.fixture(name="projected_ingress")
async def projected_ingress_fixture(
    projection_env: ProjectionEnv,
    ingress_factory: IngressFactory,
    unique_name: Callable[[str], str],
) -> AsyncIterator[IngressFactory]:
    """Starts ingress servers (MediaService mounted) that append to the projection's topics and
    read its keyspace, each on signal and broadcast topics of its own; settings as keywords."""
    created: list[str] = []

    async def start(**overrides: Any) -> Ingress:
        signals, broadcasts = unique_name("signals"), unique_name("bcast")
        ensure_topics(projection_env.bootstrap, {signals: 3, broadcasts: 1})
        created.extend([signals, broadcasts])
        env = projection_env
        topics = Topics(env.topic, signals, broadcasts, env.updates_topic)
        ingress: Ingress = await ingress_factory(
            topics=topics, cassandra_keyspace=env.keyspace, **overrides
        )
        return ingress

    yield start
    delete_topics(projection_env.bootstrap, created)
