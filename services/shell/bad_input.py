"""Bad input answers its rejection status on every RPC, never UNKNOWN: requests that do not
decode, and domain rejections a servicer let escape, become INVALID_ARGUMENT and the like.

gRPC decodes a unary request before the handler runs, and a streamed one while the handler
iterates, so a DecodeError (truncated bytes, invalid UTF-8 in a string field) passes by every
servicer's error mapping and the server answers UNKNOWN. The interceptor gives each handler a
deserializer that returns an `Undecodable` marker instead of raising, and a behaviour that turns
the marker into BAD_PARAMETER inside the handler's own call, where abort works. It goes after
authentication in a server's interceptors, so a caller without a token learns that first.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf.message import DecodeError

from parley.domain.errors import Reason, Rejected
from services.shell.errors import abort
from services.shell.handlers import Behaviour, HandlerInterceptor, rebuilt


@dataclass(frozen=True)
class Undecodable:
    """What the lenient deserializer hands the behaviour in place of a request."""

    error: str

    def rejected(self) -> Rejected:
        return Rejected(Reason.BAD_PARAMETER, f"the request does not decode: {self.error}")


def lenient(deserializer: Callable[[bytes], Any]) -> Callable[[bytes], Any]:
    def decode(raw: bytes) -> Any:
        try:
            return deserializer(raw)
        except DecodeError as error:
            return Undecodable(str(error) or type(error).__name__)

    return decode


async def _checked(request: Any, context: Any) -> Any:
    if isinstance(request, Undecodable):
        await abort(context, request.rejected())
    return request


async def _checked_stream(requests: AsyncIterator[Any], context: Any) -> AsyncIterator[Any]:
    async for request in requests:
        yield await _checked(request, context)


def _guarded(inner: Behaviour, streamed_requests: bool) -> Behaviour:
    """`inner` behind the checks, of the same kind (coroutine or async generator): the server
    runs a coroutine's stream through context.write and iterates an async generator."""

    async def request_of(request: Any, context: Any) -> Any:
        if streamed_requests:
            return _checked_stream(request, context)
        return await _checked(request, context)

    if inspect.isasyncgenfunction(inner):

        async def streaming(request: Any, context: Any) -> AsyncIterator[Any]:
            try:
                async for response in inner(await request_of(request, context), context):
                    yield response
            except Rejected as rejected:
                await abort(context, rejected)

        return streaming

    async def returning(request: Any, context: Any) -> Any:
        try:
            answer = inner(await request_of(request, context), context)
            return await answer if inspect.isawaitable(answer) else answer
        except Rejected as rejected:
            await abort(context, rejected)

    return returning


def guard(handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
    """The handler with a lenient deserializer and a behaviour that rejects what it marks."""
    deserializer = handler.request_deserializer
    return rebuilt(
        handler,
        lambda inner, kind: _guarded(inner, streamed_requests=kind.startswith("stream_")),
        lenient(deserializer) if deserializer is not None else None,
    )


class BadInputInterceptor(HandlerInterceptor):
    """Guards every handler of the server (health and reflection included)."""

    def intercept(self, handler: grpc.RpcMethodHandler, method: str) -> grpc.RpcMethodHandler:
        return guard(handler)
