"""BadInputInterceptor on an in-process server: undecodable requests and escaped rejections."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import grpc
import pytest

from parley.domain.errors import Reason, Rejected
from parley.gen.parley.v1 import ingress_pb2
from services.shell.bad_input import BadInputInterceptor

UNDECODABLE = b"\x0a\x05ab"  # a length-delimited field cut short
SERVICE = "test.Echo"


async def echo(request: ingress_pb2.GetSendStatusRequest, context: Any) -> bytes:
    if request.client_message_id == "reject":
        raise Rejected(Reason.MUTED, "escaped the servicer")
    return request.client_message_id.encode()


async def echo_stream(
    requests: AsyncIterator[ingress_pb2.GetSendStatusRequest], context: Any
) -> AsyncIterator[bytes]:
    async for request in requests:
        yield await echo(request, context)


async def echo_written(
    requests: AsyncIterator[ingress_pb2.GetSendStatusRequest], context: Any
) -> None:
    """A coroutine stream handler (as delivery's Connect): it answers with context.write."""
    async for request in requests:
        await context.write(await echo(request, context))


def handlers() -> grpc.GenericRpcHandler:
    decode = ingress_pb2.GetSendStatusRequest.FromString
    return grpc.method_handlers_generic_handler(
        SERVICE,
        {
            "Unary": grpc.unary_unary_rpc_method_handler(echo, decode),
            "Stream": grpc.stream_stream_rpc_method_handler(echo_stream, decode),
            "Written": grpc.stream_stream_rpc_method_handler(echo_written, decode),
        },
    )


@pytest.fixture
async def channel() -> AsyncIterator[grpc.aio.Channel]:
    server = grpc.aio.server(interceptors=[BadInputInterceptor()])
    server.add_generic_rpc_handlers((handlers(),))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as opened:
        yield opened
    await server.stop(0)


def encoded(cmid: str) -> bytes:
    return ingress_pb2.GetSendStatusRequest(client_message_id=cmid).SerializeToString()


async def answer(channel: grpc.aio.Channel, method: str, *requests: bytes) -> list[bytes]:
    """Raw bytes in, raw bytes out; a unary method takes the one request."""
    if method == "Unary":
        return [await channel.unary_unary(f"/{SERVICE}/Unary")(requests[0], timeout=5)]

    def frames() -> Iterator[bytes]:
        yield from requests

    call = channel.stream_stream(f"/{SERVICE}/{method}")(frames(), timeout=5)
    return [reply async for reply in call]


def reason_of(error: grpc.aio.AioRpcError) -> tuple[grpc.StatusCode, str]:
    return error.code(), str(dict(error.trailing_metadata() or ()).get("parley-reason-code"))


@pytest.mark.parametrize("method", ["Unary", "Stream", "Written"])
async def test_bad_input__decodable_requests_pass_through(
    channel: grpc.aio.Channel, method: str
) -> None:
    assert await answer(channel, method, encoded("a")) == [b"a"]


@pytest.mark.parametrize("method", ["Unary", "Stream", "Written"])
async def test_bad_input__an_undecodable_request_is_bad_parameter(
    channel: grpc.aio.Channel, method: str
) -> None:
    requests = (UNDECODABLE,) if method == "Unary" else (encoded("a"), UNDECODABLE)
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await answer(channel, method, *requests)
    assert reason_of(raised.value) == (grpc.StatusCode.INVALID_ARGUMENT, "2001")


@pytest.mark.parametrize("method", ["Unary", "Stream", "Written"])
async def test_bad_input__an_escaped_rejection_answers_its_own_status(
    channel: grpc.aio.Channel, method: str
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await answer(channel, method, encoded("reject"))
    assert reason_of(raised.value) == (grpc.StatusCode.PERMISSION_DENIED, "4005")
