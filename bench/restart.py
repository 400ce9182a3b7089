"""Restart benchmark: how long each folding service takes to serve, and its memory, as the log
grows; prints one JSON line.

For each size (0.4 M and 4 M events by default) it builds a log on a fresh topic and keyspace
with bench.project's workload (peer and group traffic; sends carry client message ids), lets the
checkpoint writer (`python -m services.checkpoints`) seal checkpoints covering the whole log,
then starts each folding service (ingress, delivery, media server) alone and measures the time
from its start until gRPC health answers SERVING, and its resident memory then.

The log's server times follow a simulated clock at --simulated-rate events/s: a log of 4 M events
is hours of traffic, not the seconds it takes to write it here. What a process keeps per message
is bounded by time windows of that clock (recall, idempotency), so its memory follows the
traffic rate while the log's length grows tenfold.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from confluent_kafka import Producer

from bench.project import Workload
from bench.sessions import rss_kb
from faults.probes import free_port, is_serving
from infra.local.migrations import apply as apply_migrations
from parley.adapters.cassandra import connect
from parley.adapters.cassandra_checkpoints import CassandraCheckpointStore
from parley.adapters.kafka_admin import delete_topics, ensure_topics
from parley.adapters.kafka_feed import log_ends
from parley.adapters.wire import encode_event
from parley.config import Settings
from parley.domain.delivery_fold import DELIVERY_FOLD
from parley.domain.events import Event, MessageSent, Payload
from parley.domain.write_model import WRITE_MODEL_FOLD

ROOT = Path(__file__).resolve().parents[1]
SERVICES = {
    "ingress": ("services.ingress", "PARLEY_INGRESS_PORT"),
    "delivery": ("services.delivery", "PARLEY_DELIVERY_PORT"),
    "media": ("services.media", "PARLEY_MEDIA_PORT"),
}


class TimedWorkload(Workload):
    """bench.project's traffic on a simulated clock, sends with client message ids."""

    def __init__(self, rate_per_s: float, start_ms: int) -> None:
        super().__init__()
        self._step_ms = 1000.0 / rate_per_s
        self._start_ms = start_ms

    def event(self, key: str, actor: str, payload: Payload, event_id: str = "") -> Event:
        base = super().event(key, actor, payload, event_id)
        at = self._start_ms + int(self.count * self._step_ms)
        cmid = f"c-{base.event_id}" if isinstance(payload, MessageSent) else ""
        return Event(
            base.event_id, base.conversation_key, base.conversation_type, base.actor, at,
            base.payload, client_message_id=cmid,
        )  # fmt: skip


def build_log(bootstrap: str, topic: str, events: int, rate: float) -> None:
    producer = Producer(
        {"bootstrap.servers": bootstrap, "linger.ms": 50, "batch.size": 1_000_000, "acks": "all"}
    )
    work = TimedWorkload(rate, int(time.time() * 1000) - int(events * 1000 / rate))
    for n, event in enumerate([*work.setup(), *(work.next() for _ in range(events))]):
        producer.produce(topic, encode_event(event), event.conversation_key.encode())
        if n % 10_000 == 0:
            producer.poll(0)
    producer.flush(120)


def wait_sealed(settings: Settings, keyspace: str, ends: dict[int, int], timeout_s: float) -> None:
    """Until the newest checkpoint of every fold covers the whole log."""
    cluster, session = connect(settings.cassandra_hosts, settings.cassandra_port, keyspace)
    store = CassandraCheckpointStore(session)

    async def covered(fold: str) -> bool:
        ids = await store.ids(fold)
        newest = await store.load(fold, ids[0]) if ids else None
        return newest is not None and all(
            newest.positions.get(p, 0) >= end for p, end in ends.items()
        )

    async def poll() -> None:
        deadline = time.monotonic() + timeout_s
        while not all([await covered(WRITE_MODEL_FOLD), await covered(DELIVERY_FOLD)]):
            if time.monotonic() > deadline:
                raise TimeoutError(f"no checkpoint covering the log within {timeout_s} s")
            await asyncio.sleep(1)

    try:
        asyncio.run(poll())
    finally:
        cluster.shutdown()


def restart(name: str, env: dict[str, str], timeout_s: float) -> dict[str, float]:
    """Starts one service alone; time to SERVING and RSS then (and 2 s later, the larger)."""
    module, port_var = SERVICES[name]
    port = free_port()
    run_env = env | {port_var: str(port), "PARLEY_INGRESS_WORKERS": "1"}
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", module], cwd=ROOT, env=run_env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        while not is_serving(f"127.0.0.1:{port}", timeout_s=0.5):
            if process.poll() is not None or time.monotonic() - started > timeout_s:
                raise RuntimeError(f"{name} did not serve within {timeout_s} s")
            time.sleep(0.02)
        ready_s = time.monotonic() - started
        rss = rss_kb(process.pid)
        time.sleep(2)
        rss = max(rss, rss_kb(process.pid))
        return {"ready_s": round(ready_s, 2), "rss_mb": round(rss / 1024, 1)}
    finally:
        process.terminate()
        process.wait(30)


def one_size(settings: Settings, events: int, rate: float, timeout_s: float) -> dict[str, Any]:
    tag = uuid.uuid4().hex[:8]
    topic, keyspace = f"bench_restart_{tag}", f"bench_restart_{tag}"
    ensure_topics(settings.kafka_bootstrap, {topic: 6})
    cluster, session = connect(settings.cassandra_hosts, settings.cassandra_port)
    apply_migrations(session, keyspace)
    env = os.environ | {
        "PARLEY_TOPIC_CONVERSATION_EVENTS": topic,
        "PARLEY_CASSANDRA_KEYSPACE": keyspace,
        "PARLEY_LOG_LEVEL": "WARNING",
        "PARLEY_INGRESS_METRICS_PORT": "0",
        "PARLEY_DELIVERY_METRICS_PORT": "0",
        "PARLEY_MEDIA_CLEANUP_INTERVAL_S": "0",
        "PARLEY_CHECKPOINT_EVERY_EVENTS": str(max(100_000, events // 4)),
    }
    writer = None
    try:
        began = time.monotonic()
        build_log(settings.kafka_bootstrap, topic, events, rate)
        built_s = time.monotonic() - began
        ends = log_ends(settings.kafka_bootstrap, topic)
        writer = subprocess.Popen(
            [sys.executable, "-m", "services.checkpoints"], cwd=ROOT,
            env=env | {"PARLEY_CHECKPOINT_INTERVAL_S": "5"},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        began = time.monotonic()
        wait_sealed(settings, keyspace, ends, timeout_s)
        sealed_s = time.monotonic() - began
        writer.terminate()
        writer.wait(30)
        services = {name: restart(name, env, timeout_s) for name in SERVICES}
        return {"events": sum(ends.values()), "build_s": round(built_s, 1),
                "checkpointed_s": round(sealed_s, 1), "services": services}  # fmt: skip
    finally:
        if writer is not None and writer.poll() is None:
            writer.kill()
        delete_topics(settings.kafka_bootstrap, [topic])
        session.execute(f"DROP KEYSPACE IF EXISTS {keyspace}", timeout=120)
        cluster.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.restart")
    parser.add_argument("--sizes", default="400000,4000000", help="log sizes, comma-separated")
    parser.add_argument("--simulated-rate", type=float, default=200.0, help="events/s of traffic")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds per wait")
    args = parser.parse_args()
    settings = Settings()
    sizes = [int(size) for size in args.sizes.split(",")]
    results = {size: one_size(settings, size, args.simulated_rate, args.timeout) for size in sizes}
    small, large = results[min(sizes)], results[max(sizes)]
    ratios = {
        name: {
            "ready_ratio": round(large["services"][name]["ready_s"]
                                 / max(small["services"][name]["ready_s"], 0.01), 2),
            "rss_ratio": round(large["services"][name]["rss_mb"]
                               / small["services"][name]["rss_mb"], 2),
        }
        for name in SERVICES
    }  # fmt: skip
    print(
        json.dumps(
            {
                "bench": "restart",
                "simulated_rate_per_s": args.simulated_rate,
                "sizes": {str(size): result for size, result in results.items()},
                "ratios": ratios,
            }
        )
    )


if __name__ == "__main__":
    main()
