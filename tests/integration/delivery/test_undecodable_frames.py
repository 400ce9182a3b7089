"""A session that sends a frame delivery cannot decode ends with BAD_PARAMETER and is gone."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import grpc
import pytest

from parley.gen.parley.v1 import delivery_pb2 as pb
from tests.e2e.waiting import eventually
from tests.integration.delivery.conftest import DeliveryFactory
from tests.integration.delivery.harness import WAIT_S
from tests.integration.ingress_harness import IngressFactory

pytestmark = pytest.mark.integration

UNDECODABLE = b"\x0a\x05ab"  # a length-delimited field cut short


async def test_delivery__an_undecodable_frame_mid_session_ends_it_with_bad_parameter(
    ingress_factory: IngressFactory, delivery_factory: DeliveryFactory
) -> None:
    ingress = await ingress_factory()
    running, channel = await delivery_factory(ingress)
    bob = await ingress.client("bob")
    synced = asyncio.Event()
    outgoing: asyncio.Queue[bytes] = asyncio.Queue()

    async def requests() -> AsyncIterator[bytes]:
        while True:
            yield await outgoing.get()

    # Frames go out as raw bytes (no serializer): a hello first, the bad bytes once synced.
    call = channel.stream_stream("/parley.v1.DeliveryService/Connect")(
        requests(), metadata=bob.auth
    )
    await outgoing.put(pb.ClientFrame(hello=pb.Hello()).SerializeToString())

    async def read() -> grpc.aio.AioRpcError:
        try:
            async for raw in call:
                if pb.ServerFrame.FromString(raw).WhichOneof("frame") == "synced":
                    synced.set()
        except grpc.aio.AioRpcError as error:
            return error
        raise AssertionError("the session ended OK")

    reader = asyncio.create_task(read())
    await asyncio.wait_for(synced.wait(), WAIT_S)
    assert [s.user_id for s in running.context.registry.all()] == ["bob"]
    await outgoing.put(UNDECODABLE)
    error = await asyncio.wait_for(reader, WAIT_S)
    trailers = dict(error.trailing_metadata() or ())
    assert (error.code(), trailers.get("parley-reason-code")) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "2001",
    )

    # The session left the registry: nothing more is routed to it.
    async def sessions() -> list[str]:
        return [s.user_id for s in running.context.registry.all()]

    assert await eventually(sessions, lambda held: not held, WAIT_S) == []
