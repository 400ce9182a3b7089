"""Fixtures of the delivery tests: in-process delivery servers on an ingress's topics."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import grpc
import pytest

from services.delivery.app import delivery_parts
from services.delivery.connect import DeliveryContext
from services.delivery.server import start_server
from services.shell.server import RunningServer
from tests.integration.delivery.harness import SessionClient, connect
from tests.integration.ingress_harness import Client, Ingress, IngressFactory

DeliveryFactory = Callable[..., Any]
LiveStackFactory = Callable[..., Any]


@dataclass
class DeliveryNode:
    """A delivery server started by a test, with the context its sessions live in."""

    running: RunningServer
    context: DeliveryContext

    @property
    def port(self) -> int:
        return self.running.port


@pytest.fixture
async def delivery_factory() -> AsyncIterator[DeliveryFactory]:
    """Starts delivery servers following an ingress's topics; returns (server, channel).
    `keyspace=` names the read models gaps are filled from; the default shared keyspace serves
    tests that never resume."""
    stack: list[tuple[Any, RunningServer, grpc.aio.Channel]] = []

    async def start(
        ingress: Ingress, keyspace: str = "parley"
    ) -> tuple[DeliveryNode, grpc.aio.Channel]:
        settings = ingress.settings.model_copy(update={"cassandra_keyspace": keyspace})
        parts_cm = delivery_parts(settings)
        parts = await parts_cm.__aenter__()
        running = await start_server(parts.context, "127.0.0.1:0")
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{running.port}")
        stack.append((parts_cm, running, channel))
        return DeliveryNode(running, parts.context), channel

    yield start
    for parts_cm, running, channel in reversed(stack):
        await channel.close()
        await running.stop(0.5)
        await parts_cm.__aexit__(None, None, None)


@dataclass
class LiveStack:
    """An ingress, a delivery server following its topics with a channel to it, and the
    clients of alice and bob."""

    ingress: Ingress
    delivery: DeliveryNode
    channel: grpc.aio.Channel
    alice: Client
    bob: Client

    async def session(self, user: str) -> SessionClient:
        """A synced session of alice or bob on the delivery server."""
        client = {"alice": self.alice, "bob": self.bob}[user]
        return await connect(self.channel, user, client.token)


@pytest.fixture
def live_stack(
    ingress_factory: IngressFactory, delivery_factory: DeliveryFactory
) -> LiveStackFactory:
    """Starts a LiveStack; `bob_ttl_s` is the life of bob's token (0: the default), the other
    keywords are the ingress's settings."""

    async def start(bob_ttl_s: int = 0, **overrides: Any) -> LiveStack:
        ingress = await ingress_factory(**overrides)
        delivery, channel = await delivery_factory(ingress)
        alice, bob = await ingress.client("alice"), await ingress.client("bob", ttl_s=bob_ttl_s)
        return LiveStack(ingress, delivery, channel, alice, bob)

    return start


@pytest.fixture
async def bob_online(
    live_stack: LiveStackFactory,
) -> AsyncIterator[tuple[LiveStack, SessionClient]]:
    """A LiveStack of default settings and a synced session of bob's, closed after the test."""
    live = await live_stack()
    session = await live.session("bob")
    yield live, session
    await session.close()
