"""A real SendHook gRPC server for tests (grpc.aio on 127.0.0.1:0) whose answer a test scripts:
a verdict per event, a delay, or a hang; it records every event it was asked about."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Callable
from typing import Any

import grpc
from prometheus_client import REGISTRY

from parley.adapters import wire
from parley.adapters.grpc_send_hook import verdict_to_proto
from parley.domain.events import Event
from parley.domain.send_hook import Allow, Verdict
from parley.gen.parley.v1 import send_hook_pb2, send_hook_pb2_grpc


class ScriptedSendHook(send_hook_pb2_grpc.SendHookServicer):
    def __init__(self, verdict: Callable[[Event], Verdict] = lambda _: Allow()) -> None:
        self.verdict = verdict
        self.delay_s: Callable[[Event], float] = lambda _: 0.0
        self.hang = False
        self.unusable = False  # answer SEND_VERDICT_UNSPECIFIED
        self.asked: list[Event] = []

    async def CheckSend(
        self, request: send_hook_pb2.CheckSendRequest, context: Any
    ) -> send_hook_pb2.CheckSendResponse:
        event = wire.event_from_proto(request.event)
        self.asked.append(event)
        if self.hang:
            await asyncio.Event().wait()
        if delay_s := self.delay_s(event):
            await asyncio.sleep(delay_s)
        if self.unusable:
            return send_hook_pb2.CheckSendResponse()
        return verdict_to_proto(self.verdict(event))

    def asked_about(self, client_message_id: str) -> int:
        return sum(1 for event in self.asked if event.client_message_id == client_message_id)


@contextlib.asynccontextmanager
async def serving_hook(hook: ScriptedSendHook) -> AsyncIterator[str]:
    """Serves `hook`; yields its target ("127.0.0.1:<port>")."""
    server = grpc.aio.server()
    send_hook_pb2_grpc.add_SendHookServicer_to_server(hook, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        await server.stop(0)


def down_target() -> str:
    """A local port nothing listens on (it was free a moment ago)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{sock.getsockname()[1]}"


def hook_calls(outcome: str) -> float:
    """parley_ingress_send_hook_calls_total{outcome} of this process so far."""
    value = REGISTRY.get_sample_value("parley_ingress_send_hook_calls_total", {"outcome": outcome})
    return value or 0.0
