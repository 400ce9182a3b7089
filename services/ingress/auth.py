"""Authenticates every call first: user tokens for clients, the admin secret for services."""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator, Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import grpc

from parley.adapters.tokens import TokenAuthority
from parley.domain.errors import Reason, Rejected
from services.ingress.errors import abort

ADMIN_SERVICE_PREFIX = "/parley.v1.AdminService/"
# Discovery and health stay open so grpcurl and load balancers can use them without a token.
OPEN_PREFIXES = ("/grpc.health.v1.Health/", "/grpc.reflection.")


@dataclass(frozen=True)
class Caller:
    user_id: str
    is_admin: bool = False


_caller: ContextVar[Caller] = ContextVar("parley_caller")


def current_caller() -> Caller:
    """The authenticated caller of the RPC being served."""
    return _caller.get()


def bearer_of(metadata: Any) -> str:
    for key, value in metadata or ():
        if key == "authorization":
            text = value.decode() if isinstance(value, bytes) else str(value)
            scheme, _, token = text.partition(" ")
            if scheme.lower() == "bearer" and token:
                return token.strip()
            raise Rejected(Reason.TOKEN_INVALID, "authorization must be 'Bearer <token>'")
    raise Rejected(Reason.TOKEN_MISSING, "missing 'authorization: Bearer <token>' metadata")


class Authenticator:
    """Knows how to turn call metadata into a Caller, or a rejection."""

    def __init__(self, tokens: TokenAuthority, admin_secret: str) -> None:
        self._tokens = tokens
        self._admin_secret = admin_secret.encode()

    def caller_for(self, method: str, metadata: Any) -> Caller:
        token = bearer_of(metadata)
        if method.startswith(ADMIN_SERVICE_PREFIX):
            if not hmac.compare_digest(token.encode(), self._admin_secret):
                raise Rejected(
                    Reason.ADMIN_CREDENTIAL_REQUIRED, "the admin API needs the admin secret"
                )
            return Caller(user_id="system", is_admin=True)
        return Caller(user_id=self._tokens.verify(token).user_id)


class AuthInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    """Wraps every handler so authentication runs first, inside the handler's own context."""

    def __init__(self, authenticator: Authenticator) -> None:
        self._authenticator = authenticator

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(details)
        method: str = details.method
        if handler is None or method.startswith(OPEN_PREFIXES):
            return handler
        return self._wrap(handler, method)

    def _identify(self, method: str, context: Any) -> Caller:
        return self._authenticator.caller_for(method, context.invocation_metadata())

    def _wrap(self, handler: grpc.RpcMethodHandler, method: str) -> grpc.RpcMethodHandler:
        if handler.unary_unary is not None:
            inner_unary = handler.unary_unary

            async def unary(request: Any, context: Any) -> Any:
                try:
                    _caller.set(self._identify(method, context))
                except Rejected as rejected:
                    await abort(context, rejected)
                return await inner_unary(request, context)

            return grpc.unary_unary_rpc_method_handler(
                unary, handler.request_deserializer, handler.response_serializer
            )
        if handler.stream_stream is not None:
            inner_stream = handler.stream_stream

            async def stream(requests: Any, context: Any) -> AsyncIterator[Any]:
                try:
                    _caller.set(self._identify(method, context))
                except Rejected as rejected:
                    await abort(context, rejected)
                async for response in inner_stream(requests, context):
                    yield response

            return grpc.stream_stream_rpc_method_handler(
                stream, handler.request_deserializer, handler.response_serializer
            )
        if handler.unary_stream is not None:
            inner_out = handler.unary_stream

            async def unary_stream(request: Any, context: Any) -> AsyncIterator[Any]:
                try:
                    _caller.set(self._identify(method, context))
                except Rejected as rejected:
                    await abort(context, rejected)
                async for response in inner_out(request, context):
                    yield response

            return grpc.unary_stream_rpc_method_handler(
                unary_stream, handler.request_deserializer, handler.response_serializer
            )
        raise NotImplementedError(f"{method}: client-streaming handlers are not wrapped yet")
