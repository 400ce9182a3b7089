"""A real aiohttp webhook receiver for the tests and the bench: checks signatures, records what
arrived, can be taken down and brought back on the same port, and can refuse chosen texts."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web

from parley.domain.webhooks import (
    EVENT_ID_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    is_valid_signature,
)


@dataclass(frozen=True)
class Arrival:
    event_id: str
    header_event_id: str
    conversation_key: str
    text: str
    signed: bool  # the signature matched the endpoint's secret


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class WebhookReceiver:
    secret: str = ""
    refuse: Callable[[str], bool] = lambda text: False
    port: int = field(default_factory=free_port)
    arrivals: list[Arrival] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    _runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hook", self._hook)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port, reuse_address=True).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _hook(self, request: web.Request) -> web.Response:
        body = await request.read()
        document = json.loads(body)
        event = document["event"]
        text = event.get("message_sent", {}).get("body", {}).get("text", {}).get("text", "")
        if self.refuse(text):
            return web.Response(status=500)
        signed = is_valid_signature(
            self.secret,
            int(request.headers[TIMESTAMP_HEADER]),
            body,
            request.headers[SIGNATURE_HEADER],
        )
        self.arrivals.append(
            Arrival(
                document["event_id"],
                request.headers[EVENT_ID_HEADER],
                event["conversation_key"],
                text,
                signed,
            )
        )
        self.arrived.set()
        return web.Response(status=204)

    async def wait_for(self, condition: Callable[[], bool], timeout_s: float) -> None:
        async with asyncio.timeout(timeout_s):
            while not condition():
                self.arrived.clear()
                await self.arrived.wait()
