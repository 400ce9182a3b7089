"""Interceptors that rebuild each gRPC method handler around its behaviour, of any kind."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import grpc

Behaviour = Callable[[Any, Any], Any]
Deserializer = Callable[[bytes], Any]

# The kinds of handler, keyed by their behaviour's attribute: "<requests>_<responses>".
_FACTORIES: dict[str, Callable[..., grpc.RpcMethodHandler]] = {
    "unary_unary": grpc.unary_unary_rpc_method_handler,
    "unary_stream": grpc.unary_stream_rpc_method_handler,
    "stream_unary": grpc.stream_unary_rpc_method_handler,
    "stream_stream": grpc.stream_stream_rpc_method_handler,
}


def rebuilt(
    handler: grpc.RpcMethodHandler,
    wrap: Callable[[Behaviour, str], Behaviour],
    deserializer: Deserializer | None = None,
) -> grpc.RpcMethodHandler:
    """`handler` of the same kind, its behaviour replaced by `wrap(behaviour, kind)` and, when
    given, its request deserializer by `deserializer`."""
    for kind, factory in _FACTORIES.items():
        inner = getattr(handler, kind)
        if inner is not None:
            return factory(
                wrap(inner, kind),
                deserializer or handler.request_deserializer,
                handler.response_serializer,
            )
    raise ValueError(f"{handler!r}: a handler without a behaviour")


class HandlerInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    """Hands every handler the server found to `intercept`; an unknown method stays unknown."""

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(details)
        return None if handler is None else self.intercept(handler, details.method)

    def intercept(self, handler: grpc.RpcMethodHandler, method: str) -> grpc.RpcMethodHandler:
        raise NotImplementedError
