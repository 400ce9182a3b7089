"""The pre-send hook's part of bench-hooks: send acknowledgement latency at a steady rate through
an ingress without a hook and one calling a local allow-everything SendHook (its own process),
in alternating windows; and the hook's round trip as the ingress's gRPC client sees it."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import subprocess
import sys
import time
import uuid
from typing import Any

import grpc

from bench.ingest import (
    OWN_CONNECTION,
    ROOT,
    Plan,
    bench_topics,
    drive_user,
    free_port,
    issue_tokens,
    percentile,
    wait_serving,
)
from parley.adapters.grpc_send_hook import GrpcSendHook
from parley.adapters.kafka_admin import delete_topics
from parley.config import DEV_ADMIN_SECRET, Settings
from parley.domain.conversations import ConversationType
from parley.domain.events import Event, MessageSent, TextContent
from parley.gen.parley.v1 import send_hook_pb2, send_hook_pb2_grpc
from parley.gen.parley.v1.ingress_pb2_grpc import MessagingServiceStub

SEND_RATE = 200.0  # messages/s offered to each ingress
SEND_USERS = 40  # at 5 messages/s each (the rate limit is 10/s)
WARM_UP_S = 3.0
GOAL_ADDED_P50_MS = 2.0
GOAL_ADDED_P99_MS = 10.0
HOOK_TIMEOUT_MS = 200

ALLOW = send_hook_pb2.CheckSendResponse(verdict=send_hook_pb2.SEND_VERDICT_ALLOW)


class AllowEverything(send_hook_pb2_grpc.SendHookServicer):
    async def CheckSend(
        self, request: send_hook_pb2.CheckSendRequest, context: Any
    ) -> send_hook_pb2.CheckSendResponse:
        return ALLOW


def _serve_hook(port: int, ready: Any) -> None:
    async def serve() -> None:
        server = grpc.aio.server()
        send_hook_pb2_grpc.add_SendHookServicer_to_server(AllowEverything(), server)
        server.add_insecure_port(f"127.0.0.1:{port}")
        await server.start()
        ready.set()
        await server.wait_for_termination()

    asyncio.run(serve())


def _start_ingress(port: int, topics: dict[str, str], hook_target: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PARLEY_INGRESS_PORT": str(port),
        "PARLEY_INGRESS_WORKERS": "1",
        "PARLEY_INGRESS_METRICS_PORT": "0",
        "PARLEY_LOG_LEVEL": "WARNING",
        "PARLEY_SEND_HOOK_TARGET": hook_target,
        "PARLEY_SEND_HOOK_TIMEOUT_MS": str(HOOK_TIMEOUT_MS),
        **{f"PARLEY_TOPIC_{name.upper()}": topic for name, topic in topics.items()},
    }
    return subprocess.Popen([sys.executable, "-m", "services.ingress"], cwd=ROOT, env=env)


class Load:
    """Senders of one ingress: tokens and connections made once, a stream per sender per window
    (so every window after the warm-up measures sends alone, not connecting)."""

    def __init__(self, target: str, users: list[str], rate: float) -> None:
        self.target = target
        self._users = users
        self._rate_per_user = rate / len(users)
        self._channels = [grpc.aio.insecure_channel(target, options=OWN_CONNECTION) for _ in "ab"]
        self._tokens: dict[str, str] = {}

    async def window(self, seconds: float) -> list[float]:
        """Sends for `seconds`; the acknowledgement latencies in ms."""
        if not self._tokens:
            admin_secret = os.environ.get("PARLEY_ADMIN_SECRET", DEV_ADMIN_SECRET)
            self._tokens = await issue_tokens(self.target, admin_secret, self._users)
        plan = Plan(self.target, "", self._users, self._rate_per_user, seconds, channels=2)
        latencies: list[float] = []
        errors: list[int] = []
        users = self._users
        await asyncio.gather(
            *(
                drive_user(
                    MessagingServiceStub(self._channels[i % 2]),
                    user,
                    users[(i + 1) % len(users)],
                    self._tokens[user],
                    plan,
                    latencies,
                    errors,
                    i / len(users),
                )
                for i, user in enumerate(users)
            )
        )
        if errors:
            raise SystemExit(f"{len(errors)} sends to {self.target} rejected: {set(errors)}")
        return latencies

    async def close(self) -> None:
        for channel in self._channels:
            await channel.close()


async def _hook_round_trips(target: str, rate: float, seconds: float) -> list[float]:
    """CheckSend at `rate` through the ingress's client, one at a time, paced (open loop)."""
    hook = GrpcSendHook(target, HOOK_TIMEOUT_MS / 1000)
    event = Event(
        "m_bench",
        "p:alice:bob",
        ConversationType.PEER,
        "alice",
        int(time.time() * 1000),
        MessageSent("m_bench", TextContent("hello from bench-hooks"), recipient_id="bob"),
        client_message_id="bench",
    )
    await hook.check(event)  # connects
    latencies: list[float] = []
    next_at = time.perf_counter()
    deadline = next_at + seconds
    while next_at < deadline:
        if (delay := next_at - time.perf_counter()) > 0:
            await asyncio.sleep(delay)
        started = time.perf_counter()
        await hook.check(event)
        latencies.append((time.perf_counter() - started) * 1000)
        next_at += 1 / rate
    await hook.close()
    return latencies


async def _run(
    rate: float, seconds: float, rounds: int, targets: dict[str, str], hook_target: str
) -> dict[str, list[float]]:
    """Latencies (ms) of acknowledgements by ingress, in alternating windows after a warm-up,
    and of the hook's round trips ("rtt")."""
    run = uuid.uuid4().hex[:6]
    loads = {
        mode: Load(target, [f"hook{run}{mode}{i}" for i in range(SEND_USERS)], rate)
        for mode, target in targets.items()
    }
    for load in loads.values():
        await load.window(WARM_UP_S)
    acks: dict[str, list[float]] = {mode: [] for mode in loads}
    for _ in range(rounds):
        for mode, load in loads.items():
            acks[mode] += await load.window(seconds / rounds)
    for load in loads.values():
        await load.close()
    return acks | {"rtt": await _hook_round_trips(hook_target, rate, seconds / rounds)}


def measure(rate: float = SEND_RATE, seconds: float = 60.0, rounds: int = 12) -> dict[str, Any]:
    """The send-hook fields of the bench-hooks line."""
    hook_port, bare_port, hooked_port = free_port(), free_port(), free_port()
    ready = multiprocessing.Event()
    hook_server = multiprocessing.Process(target=_serve_hook, args=(hook_port, ready), daemon=True)
    hook_server.start()
    ready.wait(10)
    tag = uuid.uuid4().hex[:6]
    topics = {"bare": bench_topics(f"hook-{tag}-bare"), "hooked": bench_topics(f"hook-{tag}-on")}
    processes = [
        _start_ingress(bare_port, topics["bare"], ""),
        _start_ingress(hooked_port, topics["hooked"], f"127.0.0.1:{hook_port}"),
    ]
    targets = {"bare": f"127.0.0.1:{bare_port}", "hooked": f"127.0.0.1:{hooked_port}"}
    try:
        for target in targets.values():
            wait_serving(target, 120)
        found = asyncio.run(_run(rate, seconds, rounds, targets, f"127.0.0.1:{hook_port}"))
    finally:
        for process in processes:
            process.terminate()
            process.wait(30)
        hook_server.terminate()
        hook_server.join(5)
        delete_topics(
            Settings().kafka_bootstrap, [t for named in topics.values() for t in named.values()]
        )
    return _fields(found, rate)


def _fields(found: dict[str, list[float]], rate: float) -> dict[str, Any]:
    bare, hooked, rtt = found["bare"], found["hooked"], found["rtt"]

    def ms(values: list[float], q: float) -> float:
        return round(percentile(values, q), 2)

    added_p50 = round(ms(hooked, 0.50) - ms(bare, 0.50), 2)
    added_p99 = round(ms(hooked, 0.99) - ms(bare, 0.99), 2)
    return {
        "send_rate_per_s": rate,
        "send_acked": len(bare),
        "send_acked_with_hook": len(hooked),
        "send_ack_p50_ms": ms(bare, 0.50),
        "send_ack_p99_ms": ms(bare, 0.99),
        "send_ack_with_hook_p50_ms": ms(hooked, 0.50),
        "send_ack_with_hook_p99_ms": ms(hooked, 0.99),
        "hook_added_p50_ms": added_p50,
        "hook_added_p99_ms": added_p99,
        "hook_goal_met": added_p50 <= GOAL_ADDED_P50_MS and added_p99 <= GOAL_ADDED_P99_MS,
        "hook_p50_ms": ms(rtt, 0.50),
        "hook_p99_ms": ms(rtt, 0.99),
    }
