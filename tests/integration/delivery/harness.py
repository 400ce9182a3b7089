"""Test harness of delivery: in-process delivery servers and real gRPC session clients."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from parley.gen.parley.v1 import delivery_pb2 as pb
from parley.sdk.session import frames_of
from tests.integration.ingress_harness import Ingress

ROOT = Path(__file__).resolve().parents[3]

WAIT_S = 15.0


class _Requests:
    """The client's half of the stream: frames put on a queue, None ends it. A plain async
    iterator, not a generator, so gRPC can drop it while it waits without an aclose() race."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[pb.ClientFrame | None] = asyncio.Queue()

    def __aiter__(self) -> _Requests:
        return self

    async def __anext__(self) -> pb.ClientFrame:
        frame = await self.queue.get()
        if frame is None:
            raise StopAsyncIteration
        return frame


@dataclass
class SessionClient:
    """One device session: a Connect stream whose frames are collected as they arrive."""

    user_id: str
    call: Any
    outgoing: asyncio.Queue[pb.ClientFrame | None]
    frames: list[pb.ServerFrame] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    status: grpc.StatusCode | None = None
    trailers: Any = None
    reader: asyncio.Task[None] | None = None
    reading: bool = True
    batches: int = 0  # stream messages that carried several frames

    async def _read(self) -> None:
        try:
            async for written in self.call:
                frames = frames_of(written)
                if written.WhichOneof("frame") == "batch":
                    self.batches += 1
                self.frames.extend(frames)
                self.arrived.set()
            self.status = grpc.StatusCode.OK
        except grpc.aio.AioRpcError as error:
            self.status = error.code()
            self.trailers = error.trailing_metadata()
        self.arrived.set()

    def of(self, kind: str) -> list[Any]:
        return [getattr(f, kind) for f in self.frames if f.WhichOneof("frame") == kind]

    def messages(self, key: str | None = None) -> list[pb.DeliveredMessage]:
        found: list[pb.DeliveredMessage] = self.of("message")
        return [m for m in found if key is None or m.message.conversation_key == key]

    async def wait(
        self, predicate: Callable[[SessionClient], bool], timeout_s: float = WAIT_S
    ) -> None:
        """Waits until `predicate(self)` holds, re-checking on every frame; TimeoutError else."""
        async with asyncio.timeout(timeout_s):
            while not predicate(self):
                if self.status is not None:
                    raise AssertionError(f"stream ended with {self.status} before the condition")
                self.arrived.clear()
                await self.arrived.wait()

    async def wait_ended(self, timeout_s: float = WAIT_S) -> grpc.StatusCode:
        async with asyncio.timeout(timeout_s):
            while self.status is None:
                self.arrived.clear()
                await self.arrived.wait()
        return self.status

    async def send(self, frame: pb.ClientFrame) -> None:
        await self.outgoing.put(frame)

    async def ack(self, messages: list[pb.DeliveredMessage]) -> None:
        acked = [
            pb.AckedMessage(
                conversation_key=m.message.conversation_key, message_id=m.message.message_id
            )
            for m in messages
        ]
        await self.send(pb.ClientFrame(delivered=pb.DeliveredAck(messages=acked)))

    def positions(self) -> dict[str, int]:
        """The last seq held per conversation, as a client would keep it."""
        held: dict[str, int] = dict(self.of("synced")[-1].last_seqs) if self.of("synced") else {}
        for m in self.messages():
            if m.message.seq:
                key = m.message.conversation_key
                held[key] = max(held.get(key, 0), m.message.seq)
        return held

    async def close(self) -> None:
        self.call.cancel()
        if self.reader is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self.reader


async def connect(
    channel: grpc.aio.Channel,
    user_id: str,
    token: str,
    last_seqs: Mapping[str, int] | None = None,
    resume: bool = False,
    synced: bool = True,
    max_batch: int = 64,
) -> SessionClient:
    """Opens a session and (by default) waits for its Synced frame. Batches are taken apart
    into `frames` as the SDK does; `max_batch=0` stands for a client that does not know them."""
    requests = _Requests()
    outgoing = requests.queue
    auth = (("authorization", f"Bearer {token}"),) if token else ()
    call = channel.stream_stream(
        "/parley.v1.DeliveryService/Connect",
        request_serializer=pb.ClientFrame.SerializeToString,
        response_deserializer=pb.ServerFrame.FromString,
    )(requests, metadata=auth)
    await outgoing.put(
        pb.ClientFrame(
            hello=pb.Hello(last_seqs=dict(last_seqs or {}), resume=resume, max_batch=max_batch)
        )
    )
    client = SessionClient(user_id, call, outgoing)
    client.reader = asyncio.ensure_future(client._read())
    if synced:
        await client.wait(lambda c: bool(c.of("synced")))
    return client


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def spawn_delivery(
    ingress: Ingress, keyspace: str, port: int, metrics_port: int = 0
) -> subprocess.Popen[bytes]:
    """`python -m services.delivery` on the ingress's topics (metrics port 0: none)."""
    s = ingress.settings
    env = os.environ | {
        "PARLEY_KAFKA_BOOTSTRAP": s.kafka_bootstrap,
        "PARLEY_TOPIC_CONVERSATION_EVENTS": s.topic_conversation_events,
        "PARLEY_TOPIC_SIGNALS": s.topic_signals,
        "PARLEY_TOPIC_BROADCASTS": s.topic_broadcasts,
        "PARLEY_TOPIC_USER_UPDATES": s.topic_user_updates,
        "PARLEY_CASSANDRA_KEYSPACE": keyspace,
        "PARLEY_DELIVERY_PORT": str(port),
        "PARLEY_DELIVERY_METRICS_PORT": str(metrics_port),
        "PARLEY_LOG_LEVEL": "WARNING",
    }
    (ROOT / "var").mkdir(exist_ok=True)
    return subprocess.Popen(
        [sys.executable, "-m", "services.delivery"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(ROOT / "var" / f"delivery-{port}.log", "ab"),
    )


async def start_delivery_process(
    ingress: Ingress, keyspace: str, metrics_port: int = 0
) -> tuple[subprocess.Popen[bytes], int]:
    """A delivery process on a free port; returns once its health says SERVING."""
    port = free_port()
    process = spawn_delivery(ingress, keyspace, port, metrics_port)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        health = health_pb2_grpc.HealthStub(channel)
        async with asyncio.timeout(60):
            while True:
                assert process.poll() is None, f"delivery exited with {process.returncode}"
                try:
                    reply = await health.Check(health_pb2.HealthCheckRequest(), timeout=1)
                    if reply.status == health_pb2.HealthCheckResponse.SERVING:
                        return process, port
                except grpc.aio.AioRpcError:
                    await asyncio.sleep(0.2)  # not listening yet
