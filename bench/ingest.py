"""Ingest benchmark: many users send over SendMessageStream; acknowledged sends/s and latency.

Starts its own ingress processes (unless --target is given) against the real Kafka, spreads
the users over several load-generator processes, and prints one JSON line at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import grpc

from parley.adapters.kafka_admin import delete_topics, ensure_topics
from parley.config import DEV_ADMIN_SECRET, Settings
from parley.gen.parley.v1 import common_pb2, ingress_pb2, ingress_pb2_grpc

ROOT = Path(__file__).resolve().parents[1]
# Each bench channel gets its own TCP connection: grpc otherwise shares one subchannel among
# channels to the same target, and SO_REUSEPORT could not spread them over ingress workers.
OWN_CONNECTION = (("grpc.use_local_subchannel_pool", 1),)


@dataclass(frozen=True)
class Plan:
    target: str
    admin_secret: str
    users: list[str]
    per_user_rate: float  # messages per second per user; the server allows 10
    duration_s: float
    channels: int
    # Sender i starts (i + phase) / len(users) of an interval late; load process k of P uses
    # phase k / P, so the senders of all processes interleave evenly over the interval.
    phase: float = 0.0


async def paced_text_sends(
    peer: str,
    per_second: float,
    duration_s: float,
    text_for: Callable[[str], str],
    phase: float = 0.0,
) -> AsyncIterator[ingress_pb2.SendMessageRequest]:
    """Peer text sends at a steady rate (open loop): `text_for(client_message_id)` is called at
    the moment each one leaves, so a caller can stamp it.

    `phase` (0 to 1) shifts the first send by that part of the interval. Senders given phases
    spread over [0, 1) make a steady stream of arrivals; all at phase 0 would send in
    synchronized bursts (every sender at the same instant, once per interval), which measures
    the queueing of the burst rather than the latency of a steady load."""
    interval = 1.0 / per_second
    next_at = time.perf_counter() + phase * interval
    deadline = next_at + duration_s
    while next_at < deadline:
        delay = next_at - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        cmid = uuid.uuid4().hex
        yield ingress_pb2.SendMessageRequest(
            conversation=common_pb2.ConversationRef(
                type=common_pb2.CONVERSATION_TYPE_PEER, id=peer
            ),
            client_message_id=cmid,
            body=common_pb2.MessageBody(text=common_pb2.TextContent(text=text_for(cmid))),
        )
        next_at += interval


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def issue_tokens(target: str, admin_secret: str, users: list[str]) -> dict[str, str]:
    async with grpc.aio.insecure_channel(target) as channel:
        admin = ingress_pb2_grpc.AdminServiceStub(channel)
        metadata = (("authorization", f"Bearer {admin_secret}"),)
        tokens = {}
        for user in users:
            reply = await admin.IssueToken(
                ingress_pb2.IssueTokenRequest(user_id=user), metadata=metadata
            )
            tokens[user] = reply.token
        return tokens


async def drive_user(
    stub: ingress_pb2_grpc.MessagingServiceStub,
    user: str,
    peer: str,
    token: str,
    plan: Plan,
    latencies: list[float],
    errors: list[int],
    phase: float,
) -> int:
    sent_at: dict[str, float] = {}

    def stamp(cmid: str) -> str:
        sent_at[cmid] = time.perf_counter()
        return f"hello from {user} {cmid}"

    requests = paced_text_sends(peer, plan.per_user_rate, plan.duration_s, stamp, phase)
    call = stub.SendMessageStream(requests, metadata=(("authorization", f"Bearer {token}"),))
    count = 0
    async for result in call:
        started = sent_at.pop(result.client_message_id, None)
        if result.WhichOneof("outcome") == "accepted" and started is not None:
            latencies.append((time.perf_counter() - started) * 1000)
            count += 1
        else:
            errors.append(result.rejected.reason)
    return count


async def generate_load(plan: Plan) -> tuple[list[float], list[int], float]:
    tokens = await issue_tokens(plan.target, plan.admin_secret, plan.users)
    channels = [
        grpc.aio.insecure_channel(plan.target, options=OWN_CONNECTION) for _ in range(plan.channels)
    ]
    stubs = [ingress_pb2_grpc.MessagingServiceStub(c) for c in channels]
    latencies: list[float] = []
    errors: list[int] = []
    users = plan.users
    started = time.perf_counter()
    await asyncio.gather(
        *(
            drive_user(
                stubs[i % len(stubs)],
                u,
                users[(i + 1) % len(users)],
                tokens[u],
                plan,
                latencies,
                errors,
                (i + plan.phase) / len(users),
            )
            for i, u in enumerate(users)
        )
    )
    elapsed = time.perf_counter() - started
    for channel in channels:
        await channel.close()
    return latencies, errors, elapsed


def load_process(plan: Plan, queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    latencies, errors, elapsed = asyncio.run(generate_load(plan))
    queue.put((latencies, errors, elapsed))


def start_ingress(port: int, workers: int, topics: dict[str, str]) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PARLEY_INGRESS_PORT": str(port),
        "PARLEY_INGRESS_WORKERS": str(workers),
        "PARLEY_LOG_LEVEL": "WARNING",
        **{f"PARLEY_TOPIC_{name.upper()}": topic for name, topic in topics.items()},
    }
    return subprocess.Popen([sys.executable, "-m", "services.ingress"], cwd=ROOT, env=env)


def bench_topics(run: str) -> dict[str, str]:
    """Fresh topics: the ingress starts on an empty log, and the dev log stays untouched."""
    names = ("conversation_events", "signals", "broadcasts", "user_updates")
    topics = {name: f"bench-{run}-{name.replace('_', '-')}" for name in names}
    ensure_topics(Settings().kafka_bootstrap, {topic: 6 for topic in topics.values()})
    return topics


def wait_serving(target: str, timeout_s: float) -> None:
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with grpc.insecure_channel(target) as channel:
                reply = health_pb2_grpc.HealthStub(channel).Check(
                    health_pb2.HealthCheckRequest(), timeout=2
                )
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
        except grpc.RpcError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"ingress at {target} not serving after {timeout_s}s")


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--target", help="host:port of a running ingress (default: start one)")
    parser.add_argument("--ingress-workers", type=int, default=2)
    parser.add_argument("--users", type=int, default=600)
    parser.add_argument("--rate", type=float, default=8.0, help="messages/s per user (limit 10)")
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--load-processes", type=int, default=2)
    parser.add_argument("--channels", type=int, default=8, help="gRPC connections per load process")
    args = parser.parse_args()
    admin_secret = os.environ.get("PARLEY_ADMIN_SECRET", DEV_ADMIN_SECRET)

    ingress = None
    topics: dict[str, str] = {}
    target = args.target
    run = uuid.uuid4().hex[:6]
    if target is None:
        port = free_port()
        target = f"127.0.0.1:{port}"
        topics = bench_topics(run)
        ingress = start_ingress(port, args.ingress_workers, topics)
    try:
        wait_serving(target, 120)
        users = [f"bench{run}u{i}" for i in range(args.users)]
        shards = [users[i :: args.load_processes] for i in range(args.load_processes)]
        queue: multiprocessing.Queue = multiprocessing.get_context("spawn").Queue()  # type: ignore[type-arg]
        procs = [
            multiprocessing.get_context("spawn").Process(
                target=load_process,
                args=(
                    Plan(
                        target,
                        admin_secret,
                        shard,
                        args.rate,
                        args.duration,
                        args.channels,
                        phase=k / len(shards),
                    ),
                    queue,
                ),
            )
            for k, shard in enumerate(shards)
        ]
        for proc in procs:
            proc.start()
        results = [queue.get() for _ in procs]
        for proc in procs:
            proc.join()
    finally:
        if ingress is not None:
            ingress.terminate()
            ingress.wait(30)
            delete_topics(Settings().kafka_bootstrap, list(topics.values()))
    latencies = [v for lat, _, _ in results for v in lat]
    errors = [e for _, err, _ in results for e in err]
    elapsed = max(e for _, _, e in results)
    print(
        json.dumps(
            {
                "bench": "ingest",
                "msgs_per_s": round(len(latencies) / elapsed, 1),
                "p50_ms": round(percentile(latencies, 0.50), 2),
                "p99_ms": round(percentile(latencies, 0.99), 2),
                "mean_ms": round(statistics.fmean(latencies), 2) if latencies else None,
                "errors": len(errors),
                "acked": len(latencies),
                "users": args.users,
                "offered_msgs_per_s": round(args.users * args.rate, 1),
                "duration_s": round(elapsed, 1),
                "ingress_workers": args.ingress_workers if args.target is None else None,
            }
        )
    )


if __name__ == "__main__":
    main()
