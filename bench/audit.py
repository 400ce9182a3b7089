"""Audit benchmark: trail, state, export, verify and replay on a large log; prints one JSON line.

Builds a log of --events events on a fresh 6-partition topic: bench.project's workload (peer and
group traffic) on bench.restart's simulated clock, plus one audited group taking --hot-share of
the traffic. Then it times, in this process: the trail and the state (as of the end of the log)
of one ordinary group and of the audited group; the export of the audited group to an Object
Lock bucket and its verify; a replay of the whole log into a fresh keyspace. On a separate
backlog of --catch-up-events of the same workload it measures the live projector's catch-up (the
Faust worker, as `make bench-project` does) and a replay of that same backlog.
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
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any, TypeVar

from confluent_kafka import Producer
from minio.error import S3Error

from bench.project import ROOT, cpu_s, wait_applied
from bench.restart import TimedWorkload
from infra.local.migrations import apply as apply_migrations
from infra.local.settings import Settings as InfraSettings
from parley.adapters.cassandra import connect
from parley.adapters.cassandra_queries import applied_offsets
from parley.adapters.kafka import PARTITIONER
from parley.adapters.kafka_admin import delete_topics, ensure_topics
from parley.adapters.wire import encode_event
from parley.adapters.wire_audit import record_json
from parley.audit import open_log, state_at, trail
from parley.audit_exports import Target, check, export, store_for
from parley.config import Settings
from parley.domain.events import (
    ConversationRead,
    Event,
    GroupCreated,
    MessageRecalled,
    MessageSent,
    TextContent,
)
from streams.replay import replay

HOT = "g:audited"
TYPICAL = "g:grp7"
T = TypeVar("T")


class AuditedWorkload(TimedWorkload):
    """The restart bench's traffic, plus one busy group whose trail the auditors want."""

    def __init__(self, rate_per_s: float, start_ms: int, hot_share: float) -> None:
        super().__init__(rate_per_s, start_ms)
        self._hot_share = hot_share
        self._hot_sent: list[tuple[str, str]] = []

    def setup(self) -> list[Event]:
        members = tuple(f"a{i}" for i in range(1, 8))
        return [*super().setup(), self.event(HOT, "a0", GroupCreated("audited", "audit", "a0",
                                                                   members))]  # fmt: skip

    def next(self) -> Event:
        if self.rng.random() >= self._hot_share:
            return super().next()
        rng, actor = self.rng, f"a{self.rng.randrange(8)}"
        roll = rng.random()
        if roll < 0.85 or not self._hot_sent:
            mid = f"h{uuid.UUID(int=rng.getrandbits(128)).hex}"
            self._hot_sent = [*self._hot_sent[-19:], (mid, actor)]
            mentions = ("a3",) if roll < 0.02 else ()
            sent = MessageSent(mid, TextContent(f"audited {self.count}"),
                               mentioned_user_ids=mentions, mention_all=roll > 0.845)  # fmt: skip
            return self.event(HOT, actor, sent, event_id=mid)
        if roll < 0.97:
            return self.event(HOT, actor, ConversationRead())
        mid, sender = rng.choice(self._hot_sent)
        return self.event(HOT, sender, MessageRecalled(mid, sender))


def build_log(bootstrap: str, topic: str, work: TimedWorkload, events: int) -> None:
    """Produced as KafkaEventLog partitions (PARTITIONER), so audits find each conversation."""
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 50, "batch.size": 1_000_000,
                         "acks": "all", "partitioner": PARTITIONER})  # fmt: skip

    def stream() -> Iterator[Event]:
        yield from work.setup()
        for _ in range(events):
            yield work.next()

    for n, event in enumerate(stream()):
        while True:
            try:
                producer.produce(topic, encode_event(event), event.conversation_key.encode())
                break
            except BufferError:
                producer.poll(0.1)  # the local queue is full: let librdkafka send
        if n % 10_000 == 0:
            producer.poll(0)
    producer.flush(300)


def with_cpu(action: Callable[[], T]) -> tuple[T, dict[str, float]]:
    """The result, and the CPU seconds this process and Cassandra spent meanwhile."""
    cassandra = int((InfraSettings.from_env().var_root / "run" / "cassandra.pid").read_text())
    ours, theirs = time.process_time(), cpu_s(cassandra)
    result = action()
    return result, {"replay": time.process_time() - ours, "cassandra": cpu_s(cassandra) - theirs}


def timed(action: Callable[[], T]) -> tuple[T, float]:
    began = time.perf_counter()
    result = action()
    return result, time.perf_counter() - began


def audit_one(settings: Settings, key: str) -> dict[str, Any]:
    """Seconds for the whole trail (as JSONL, as `parley audit trail --format jsonl` writes it,
    to /dev/null) and for the state now."""
    with open_log(settings) as log, open(os.devnull, "wb") as sink:
        found, trail_s = timed(
            lambda: sum(
                sink.write(record_json(record) + b"\n") > 0 for record in trail(log, key).records()
            )
        )
        (_, moment), state_s = timed(lambda: state_at(log, key, None))
    return {"events": found, "trail_s": round(trail_s, 3), "state_s": round(state_s, 3),
            "last_seq": moment.last_seq}  # fmt: skip


def export_and_verify(settings: Settings, tag: str) -> dict[str, Any]:
    target = Target(bucket=f"bench-audit-{tag}", prefix="audited")
    with open_log(settings) as log:
        manifest, export_s = timed(
            lambda: export(settings, log, HOT, None, None, target, timedelta(seconds=30))
        )
    checked, verify_s = timed(lambda: check(settings, target))
    assert checked.verdict.ok, checked.verdict
    events = manifest.events
    return {"audited_events": events, "export_s": round(export_s, 2),
            "export_events_per_s": round(events / export_s), "verify_s": round(verify_s, 2),
            "verify_events_per_s": round(events / verify_s), "bucket": target.bucket}  # fmt: skip


def live_catch_up(settings: Settings, session: Any, topic: str, keyspace: str) -> float:
    """Events/s of the Faust projector catching up on `topic`, from its first applied batch."""
    apply_migrations(session, keyspace)
    session.set_keyspace(keyspace)
    env = os.environ | {
        "PARLEY_TOPIC_CONVERSATION_EVENTS": topic,
        "PARLEY_TOPIC_USER_UPDATES": f"{topic}_updates",
        "PARLEY_CASSANDRA_KEYSPACE": keyspace,
        "PARLEY_LOG_LEVEL": "WARNING",
    }
    worker = subprocess.Popen([sys.executable, "-m", "streams", "--app-id", f"bench-{keyspace}"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL)  # fmt: skip
    try:
        while not applied_offsets(session, topic):
            if worker.poll() is not None:
                raise RuntimeError(f"the projector exited with {worker.returncode}")
            time.sleep(0.05)
        first = time.monotonic()
        done = wait_applied(session, settings.kafka_bootstrap, topic, timeout_s=1800)
    finally:
        worker.terminate()
        worker.wait(30)
    applied = sum(o + 1 for o in applied_offsets(session, topic).values())
    return applied / (done - first)


def remove_bucket(settings: Settings, bucket: str, timeout_s: float = 120) -> None:
    """Removes the export bucket once its objects' retention has passed."""
    client = store_for(settings, bucket).client
    deadline = time.monotonic() + timeout_s
    while client.bucket_exists(bucket):
        try:
            for item in client.list_objects(bucket, recursive=True, include_version=True):
                client.remove_object(bucket, item.object_name, version_id=item.version_id)
            client.remove_bucket(bucket)
        except S3Error:
            if time.monotonic() > deadline:
                raise
            time.sleep(1)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.audit")
    parser.add_argument("--events", type=int, default=4_000_000, help="events in the log")
    parser.add_argument("--hot-share", type=float, default=0.05, help="share of the audited group")
    parser.add_argument("--catch-up-events", type=int, default=200_000)
    parser.add_argument("--simulated-rate", type=float, default=200.0, help="events/s of traffic")
    args = parser.parse_args()
    base, tag = Settings(), uuid.uuid4().hex[:8]
    topic, small = f"bench_audit_{tag}", f"bench_audit_small_{tag}"
    keyspaces = [f"bench_audit_{name}_{tag}" for name in ("replay", "live", "replay_small")]
    ensure_topics(base.kafka_bootstrap, {topic: 6, small: 6, f"{small}_updates": 6})
    cluster, session = connect(base.cassandra_hosts, base.cassandra_port)
    settings = base.model_copy(update={"topic_conversation_events": topic})
    small_settings = base.model_copy(update={"topic_conversation_events": small})
    start_ms = int(time.time() * 1000) - int(args.events * 1000 / args.simulated_rate)
    result: dict[str, Any] = {"bench": "audit", "events": args.events}
    exported: dict[str, Any] = {}
    try:
        work = AuditedWorkload(args.simulated_rate, start_ms, args.hot_share)
        _, build_s = timed(lambda: build_log(base.kafka_bootstrap, topic, work, args.events))
        result["build_s"] = round(build_s, 1)
        typical, hot = audit_one(settings, TYPICAL), audit_one(settings, HOT)
        result |= {"trail_s": typical["trail_s"], "state_s": typical["state_s"],
                   "conversation": TYPICAL, "conversation_events": typical["events"],
                   "audited": {"conversation": HOT, **hot}}  # fmt: skip
        exported = export_and_verify(settings, tag)
        result |= exported
        report, cpu = with_cpu(lambda: asyncio.run(replay(settings, keyspaces[0])))
        result |= {"replay_events_per_s": round(report.events_per_s),
                   "replay_s": round(report.seconds, 1),
                   "replay_cpu_us_per_event": {name: round(seconds * 1e6 / report.events)
                                               for name, seconds in cpu.items()}}  # fmt: skip
        small_work = TimedWorkload(args.simulated_rate, start_ms)
        build_log(base.kafka_bootstrap, small, small_work, args.catch_up_events)
        result["live_catch_up_events_per_s"] = round(
            live_catch_up(small_settings, session, small, keyspaces[1])
        )
        same = asyncio.run(replay(small_settings, keyspaces[2]))
        result["replay_same_backlog_events_per_s"] = round(same.events_per_s)
        result["catch_up_events"] = args.catch_up_events
    finally:
        delete_topics(base.kafka_bootstrap, [topic, small, f"{small}_updates"])
        for keyspace in keyspaces:
            session.execute(f"DROP KEYSPACE IF EXISTS {keyspace}", timeout=300)
        cluster.shutdown()
        if exported:
            remove_bucket(base, exported["bucket"])
    print(json.dumps(result))


if __name__ == "__main__":
    main()
