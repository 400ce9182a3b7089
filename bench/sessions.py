"""Session benchmark: idle sessions one delivery process holds, its memory per session, and
fan-out pushes/s of messages to a large group whose members are all connected.

Starts one delivery process on fresh topics, writes a group of `--members` users straight to
the log, opens `--sessions` sessions (the first `--members` of them are the group's members)
from load processes, reads the delivery process's RSS before and after, then appends
`--messages` group messages and counts the frames the member sessions receive.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import sys
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import grpc

from bench.e2e import spawn
from bench.ingest import OWN_CONNECTION, bench_topics, free_port, wait_serving
from parley.adapters.kafka import KafkaEventLog
from parley.adapters.kafka_admin import delete_topics
from parley.adapters.tokens import TokenAuthority
from parley.config import Settings
from parley.domain.conversations import ConversationType
from parley.domain.events import Event, GroupCreated, MessageSent, TextContent
from parley.domain.log_streams import Stream
from parley.gen.parley.v1 import delivery_pb2 as pb
from parley.sdk.session import frames_of

CHANNELS = 16  # HTTP/2 connections per load process; sessions are streams on them
# Sessions the load processes together may have opening (call started, Synced not yet read).
# The gRPC core queues the calls the server has not picked up yet and refuses some past its
# grpc.server.max_pending_requests (delivery: SESSION_STORM; gRPC's default 1000).
CONNECTS_IN_FLIGHT = 500
MAX_BATCH = 64  # frames per stream message the sessions accept, as the SDK does


def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


async def hold(
    target: str,
    users: list[str],
    expected: int,
    in_flight: int,
    max_batch: int,
    report: Any,
    go: Any,
) -> None:
    tokens = TokenAuthority(Settings().token_secret)
    channels = [grpc.aio.insecure_channel(target, options=OWN_CONNECTION) for _ in range(CHANNELS)]
    received = 0
    first = last = 0.0
    all_in = asyncio.Event()
    failed: list[str] = []

    async def requests() -> AsyncIterator[pb.ClientFrame]:
        yield pb.ClientFrame(hello=pb.Hello(max_batch=max_batch))
        await asyncio.Event().wait()

    async def session(i: int, user: str, ready: asyncio.Event) -> None:
        nonlocal received, first, last
        await opening.acquire()
        call = channels[i % CHANNELS].stream_stream(
            "/parley.v1.DeliveryService/Connect",
            request_serializer=pb.ClientFrame.SerializeToString,
            response_deserializer=pb.ServerFrame.FromString,
        )(requests(), metadata=(("authorization", f"Bearer {tokens.issue(user)[0]}"),))
        try:
            async for written in call:
                for frame in frames_of(written):
                    kind = frame.WhichOneof("frame")
                    if kind == "synced" and not ready.is_set():
                        ready.set()
                        opening.release()
                    elif kind == "message":
                        received += 1
                        last = time.time()
                        first = first or last
                        if received >= expected:
                            all_in.set()
        except grpc.aio.AioRpcError as error:
            if not failed:
                print(f"first failed session: {error.code()} {error.details()}", file=sys.stderr)
            failed.append(user)
        finally:
            if not ready.is_set():  # failed before it synced: its slot goes to the next one
                ready.set()
                opening.release()

    opening = asyncio.Semaphore(in_flight)  # sessions between call start and Synced
    readies = [asyncio.Event() for _ in users]
    tasks = [asyncio.ensure_future(session(i, u, readies[i])) for i, u in enumerate(users)]
    await asyncio.gather(*(r.wait() for r in readies))
    report.put(("connected", len(users) - len(failed)))
    await asyncio.to_thread(go.wait)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(all_in.wait(), 120)
    report.put(("received", received, first, last))
    for task in tasks:
        task.cancel()


def load_process(*hold_args: Any) -> None:
    """One load process: `hold` with the arguments given, on its own event loop."""
    asyncio.run(hold(*hold_args))


async def append(topics: dict[str, str], events: list[Event]) -> None:
    log = KafkaEventLog(
        Settings().kafka_bootstrap, {Stream.CONVERSATION_EVENTS: topics["conversation_events"]}
    )
    try:
        for start in range(0, len(events), 500):
            await log.append_many(events[start : start + 500])
    finally:
        await log.close()


def group_events(members: list[str], messages: int) -> tuple[Event, list[Event]]:
    now = time.time_ns() // 1_000_000
    owner = members[0]
    created = Event("e-create", "g:big", ConversationType.GROUP, owner, now,
                    GroupCreated("big", "big", owner, tuple(members[1:])))  # fmt: skip
    sends = [
        Event(
            f"m{n}",
            "g:big",
            ConversationType.GROUP,
            owner,
            now,
            MessageSent(f"m{n}", TextContent(f"fan-out {n}")),
        )
        for n in range(messages)
    ]
    return created, sends


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.sessions", description=__doc__)
    parser.add_argument("--sessions", type=int, default=20_000)
    parser.add_argument("--members", type=int, default=5_000)
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument("--load-processes", type=int, default=2)
    parser.add_argument("--connects-in-flight", type=int, default=CONNECTS_IN_FLIGHT,
                        help="sessions opening at once, over all load processes")  # fmt: skip
    parser.add_argument("--max-batch", type=int, default=MAX_BATCH,
                        help="Hello.max_batch of the sessions (0: unbatched)")  # fmt: skip
    args = parser.parse_args()
    run = uuid.uuid4().hex[:6]
    topics = bench_topics(run)
    users = [f"u{run}x{i}" for i in range(args.sessions)]
    created, sends = group_events(users[: args.members], args.messages)
    asyncio.run(append(topics, [created]))
    port = free_port()
    env = os.environ | {
        **{f"PARLEY_TOPIC_{name.upper()}": topic for name, topic in topics.items()},
        "PARLEY_DELIVERY_PORT": str(port),
        "PARLEY_LOG_LEVEL": "WARNING",
    }
    delivery = spawn(["services.delivery"], env, f"bench-sessions-{run}.log")
    target = f"127.0.0.1:{port}"
    try:
        wait_serving(target, 120)
        base_kb = rss_kb(delivery.pid)
        report: Any = multiprocessing.Queue()
        go = multiprocessing.Event()
        shards = [users[k :: args.load_processes] for k in range(args.load_processes)]
        members = set(users[: args.members])
        in_flight = max(1, args.connects_in_flight // args.load_processes)
        loads = [
            multiprocessing.Process(
                target=load_process,
                args=(
                    target,
                    shard,
                    args.messages * sum(u in members for u in shard),
                    in_flight,
                    args.max_batch,
                    report,
                    go,
                ),
            )
            for shard in shards
        ]
        started = time.monotonic()
        for load in loads:
            load.start()
        connected = sum(report.get()[1] for _ in loads)
        connect_s = time.monotonic() - started
        held_kb = rss_kb(delivery.pid)
        go.set()
        asyncio.run(append(topics, sends))
        received = [report.get() for _ in loads]
        for load in loads:
            load.join()
    finally:
        delivery.terminate()
        delivery.wait(30)
        delete_topics(Settings().kafka_bootstrap, list(topics.values()))
    pushes = sum(r[1] for r in received)
    first = min(r[2] for r in received if r[2]) if pushes else 0.0
    last = max(r[3] for r in received) if pushes else 0.0
    print(
        json.dumps(
            {
                "bench": "sessions",
                "sessions": connected,
                "connect_s": round(connect_s, 1),
                "delivery_rss_mb": round(held_kb / 1024, 1),
                "kb_per_session": round((held_kb - base_kb) / max(connected, 1), 1),
                "group_members": args.members,
                "max_batch": args.max_batch,
                "fan_out_pushes": pushes,
                "fan_out_expected": args.members * args.messages,
                "fan_out_pushes_per_s": round(pushes / (last - first), 1) if last > first else None,
            }
        )
    )


if __name__ == "__main__":
    main()
