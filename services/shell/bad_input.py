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
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf.message import DecodeError

from parley.domain.errors import Reason, Rejected
from services.shell.errors import abort

Behaviour = Callable[[Any, Any], Any]


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


# The kinds of handler, keyed by their behaviour's attribute, and whether requests stream.
_FACTORIES: dict[str, tuple[Callable[..., grpc.RpcMethodHandler], bool]] = {
    "unary_unary": (grpc.unary_unary_rpc_method_handler, False),
    "unary_stream": (grpc.unary_stream_rpc_method_handler, False),
    "stream_unary": (grpc.stream_unary_rpc_method_handler, True),
    "stream_stream": (grpc.stream_stream_rpc_method_handler, True),
}


def guard(handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
    """The handler with a lenient deserializer and a behaviour that rejects what it marks."""
    deserializer = handler.request_deserializer
    for kind, (factory, streamed_requests) in _FACTORIES.items():
        inner = getattr(handler, kind)
        if inner is not None:
            return factory(
                _guarded(inner, streamed_requests),
                lenient(deserializer) if deserializer is not None else None,
                handler.response_serializer,
            )
    return handler


class BadInputInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    """Guards every handler of the server (health and reflection included)."""

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(details)
        return None if handler is None else guard(handler)
