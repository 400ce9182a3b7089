"""A node takes over the sessions of a node that went away: all of them arrive at once."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from parley.adapters.tokens import TokenAuthority
from tests.integration.delivery.conftest import DeliveryFactory
from tests.integration.delivery.harness import connect
from tests.integration.ingress_harness import IngressFactory

pytestmark = pytest.mark.integration

# More than the 3000 calls the gRPC core queues for a server by default before refusing them.
STORM = 4000
CHANNELS = 8


async def test_delivery__a_reconnect_storm_of_sessions_arriving_at_once_all_connect(
    ingress_factory: IngressFactory, delivery_factory: DeliveryFactory
) -> None:
    ingress = await ingress_factory()
    running, _ = await delivery_factory(ingress)
    tokens = TokenAuthority(ingress.settings.token_secret)
    target = f"127.0.0.1:{running.port}"
    own = (("grpc.use_local_subchannel_pool", 1),)  # one TCP connection per channel
    channels = [grpc.aio.insecure_channel(target, options=own) for _ in range(CHANNELS)]
    try:
        sessions = await asyncio.gather(
            *(
                connect(channels[n % CHANNELS], f"storm{n}", tokens.issue(f"storm{n}")[0])
                for n in range(STORM)
            )
        )
        assert all(s.of("synced") for s in sessions)
        assert sum(1 for _ in running.context.registry.all()) == STORM
        await asyncio.gather(*(s.close() for s in sessions))
    finally:
        await asyncio.gather(*(c.close() for c in channels))
