"""Projection benchmark: catch up on a backlog, then follow live load; prints one JSON line.

Builds a backlog of conversation events on a fresh topic (peer and group traffic with reads,
receipts, mentions and recalls), starts the real projector worker (`python -m streams`) on a
fresh keyspace, and measures events/s until it has applied everything. Then it produces live
load at --live-rate events/s and measures the lag between Kafka's acknowledgement of an event
and the projector's recorded position passing it.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from kafka import KafkaProducer

from infra.local.migrations import apply as apply_migrations
from infra.local.settings import Settings as InfraSettings
from parley.adapters.cassandra import connect
from parley.adapters.cassandra_queries import applied_offsets
from parley.adapters.kafka_admin import delete_topics, ensure_topics
from parley.adapters.wire import encode_event
from parley.config import Settings
from parley.domain.conversations import ConversationType
from parley.domain.events import (
    ConversationRead,
    Event,
    GroupCreated,
    MessageDelivered,
    MessageRead,
    MessageRecalled,
    MessageSent,
    Payload,
    TextContent,
)
from streams.lag import end_offsets

ROOT = Path(__file__).resolve().parents[1]
PEERS, GROUPS, GROUP_SIZE = 3000, 300, 8


class Workload:
    """Deterministic traffic: 70% peer, 30% group; sends, reads, receipts, mentions, recalls."""

    def __init__(self, seed: int = 7) -> None:
        self.rng = random.Random(seed)
        self.count = 0
        self.recent: dict[str, list[tuple[str, str]]] = {}

    def event(self, key: str, actor: str, payload: Payload, event_id: str = "") -> Event:
        self.count += 1
        kind = ConversationType.PEER if key.startswith("p:") else ConversationType.GROUP
        return Event(
            event_id or f"e{self.count}", key, kind, actor, int(time.time() * 1000), payload
        )

    def setup(self) -> list[Event]:
        return [
            self.event(
                f"g:grp{g}",
                f"u{g}",
                GroupCreated(
                    f"grp{g}", "bench", f"u{g}", tuple(f"u{g + i}" for i in range(1, GROUP_SIZE))
                ),
            )
            for g in range(GROUPS)
        ]

    def next(self) -> Event:
        rng = self.rng
        if rng.random() < 0.7:
            n = rng.randrange(PEERS)
            users = sorted((f"u{n}", f"w{n}"))
            key, actor = f"p:{users[0]}:{users[1]}", rng.choice(users)
        else:
            g = rng.randrange(GROUPS)
            key, actor = f"g:grp{g}", f"u{g + rng.randrange(GROUP_SIZE)}"
        sent = self.recent.setdefault(key, [])
        roll = rng.random()
        if roll < 0.80 or not sent:
            mid = f"m{uuid.UUID(int=rng.getrandbits(128)).hex}"
            mention = (f"u{rng.randrange(GROUPS)}",) if roll < 0.02 else ()
            sent.append((mid, actor))
            del sent[:-20]
            payload: Payload = MessageSent(
                mid,
                TextContent(f"hello {self.count}"),
                mentioned_user_ids=mention,
                receipt_requested=roll < 0.05,
            )
            return self.event(key, actor, payload, event_id=mid)
        mid, sender = rng.choice(sent)
        if roll < 0.92:
            return self.event(key, actor, ConversationRead())
        if roll < 0.98:
            receipt = MessageDelivered(mid) if key.startswith("p:") else MessageRead(mid)
            return self.event(key, actor, receipt)
        return self.event(key, sender, MessageRecalled(mid, sender))


def produce(producer: KafkaProducer, topic: str, events: list[Event]) -> None:
    for event in events:
        producer.send(topic, key=event.conversation_key.encode(), value=encode_event(event))
    producer.flush()


def cpu_s(pid: int) -> float:
    """User plus system CPU seconds a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_applied(session: Any, bootstrap: str, topic: str, timeout_s: float) -> float:
    ends = {p: e - 1 for p, e in end_offsets(bootstrap, topic).items() if e > 0}
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        applied = applied_offsets(session, topic)
        if all(applied.get(p, -1) >= end for p, end in ends.items()):
            return time.monotonic()
        time.sleep(0.05)
    raise TimeoutError(f"projector did not catch up within {timeout_s} s")


def live_lag(
    session: Any, producer: KafkaProducer, topic: str, work: Workload, rate: int, seconds: float
) -> list[float]:
    """Produces `rate` events/s in 100 ms slices; per slice, ack-to-applied latency."""
    lags: list[float] = []
    pending: list[tuple[float, dict[int, int]]] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline or pending:
        tick = time.monotonic()
        if tick < deadline:
            futures = [
                producer.send(topic, key=e.conversation_key.encode(), value=encode_event(e))
                for e in (work.next() for _ in range(rate // 10))
            ]
            producer.flush()
            acked, offsets = time.monotonic(), dict[int, int]()
            for f in futures:
                meta = f.get()
                offsets[meta.partition] = max(offsets.get(meta.partition, -1), meta.offset)
            pending.append((acked, offsets))
        applied = applied_offsets(session, topic)
        now = time.monotonic()
        still = []
        for acked, offsets in pending:
            if all(applied.get(p, -1) >= o for p, o in offsets.items()):
                lags.append(now - acked)
            else:
                still.append((acked, offsets))
        pending = still
        time.sleep(max(0.0, 0.1 - (time.monotonic() - tick)))
    return lags


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.project")
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--live-rate", type=int, default=1500)
    parser.add_argument("--live-seconds", type=float, default=15)
    parser.add_argument("--workers", type=int, default=1, help="projector worker processes")
    args = parser.parse_args()
    settings = Settings()
    tag = uuid.uuid4().hex[:8]
    topic, updates, keyspace = f"bench_conv_{tag}", f"bench_updates_{tag}", f"bench_{tag}"
    ensure_topics(settings.kafka_bootstrap, {topic: 6, updates: 6})
    cluster, session = connect(settings.cassandra_hosts, settings.cassandra_port)
    apply_migrations(session, keyspace)
    session.set_keyspace(keyspace)
    producer = KafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap,
        acks="all",
        linger_ms=20,
        batch_size=256 * 1024,
        compression_type=None,
    )
    work = Workload()
    backlog = work.setup() + [work.next() for _ in range(args.events)]
    produce(producer, topic, backlog)
    env = os.environ | {
        "PARLEY_TOPIC_CONVERSATION_EVENTS": topic,
        "PARLEY_TOPIC_USER_UPDATES": updates,
        "PARLEY_CASSANDRA_KEYSPACE": keyspace,
        # INFO shows each batch's size, rows and phase timings (on stderr)
        "PARLEY_LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "WARNING"),
    }
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "streams", "--app-id", f"bench-{tag}"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
        )
        for _ in range(args.workers)
    ]
    try:
        started = time.monotonic()
        while not applied_offsets(session, topic):
            for worker in workers:
                if worker.poll() is not None:
                    raise RuntimeError(f"a projector worker exited with {worker.returncode}")
            time.sleep(0.05)
        cassandra = int((InfraSettings.from_env().var_root / "run" / "cassandra.pid").read_text())
        first, db_first = time.monotonic(), cpu_s(cassandra)
        cpu_first = sum(cpu_s(worker.pid) for worker in workers)
        done = wait_applied(session, settings.kafka_bootstrap, topic, timeout_s=900)
        worker_cpu = sum(cpu_s(worker.pid) for worker in workers) - cpu_first
        db_cpu = cpu_s(cassandra) - db_first
        lags = sorted(live_lag(session, producer, topic, work, args.live_rate, args.live_seconds))
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(30)
        producer.close()
        delete_topics(settings.kafka_bootstrap, [topic, updates])
        session.execute(f"DROP KEYSPACE IF EXISTS {keyspace}")
        cluster.shutdown()
    print(
        json.dumps(
            {
                "events": len(backlog),
                "events_per_s": round(len(backlog) / (done - first), 1),
                "events_per_s_incl_startup": round(len(backlog) / (done - started), 1),
                "catch_up_s": round(done - started, 2),
                "workers": args.workers,
                # CPU the worker processes spent per 1,000 events while catching up: steadier
                # than events/s on a shared machine, and what bounds it on one core.
                "worker_cpu_ms_per_1k_events": round(worker_cpu * 1000 / len(backlog) * 1000, 1),
                "cassandra_cpu_ms_per_1k_events": round(db_cpu * 1000 / len(backlog) * 1000, 1),
                "live_rate": args.live_rate,
                "lag_p50_s": round(lags[len(lags) // 2] if lags else -1.0, 3),
                "lag_s": round(lags[int(len(lags) * 0.99) - 1] if lags else -1.0, 3),
                "lag_max_s": round(lags[-1] if lags else -1.0, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
