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
from services.shell.errors import abort
from services.shell.handlers import Behaviour, HandlerInterceptor, rebuilt

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


class AuthInterceptor(HandlerInterceptor):
    """Wraps every handler so authentication runs first, inside the handler's own context."""

    def __init__(self, authenticator: Authenticator) -> None:
        self._authenticator = authenticator

    def intercept(self, handler: grpc.RpcMethodHandler, method: str) -> grpc.RpcMethodHandler:
        if method.startswith(OPEN_PREFIXES):
            return handler

        def wrap(inner: Behaviour, kind: str) -> Behaviour:
            streamed_requests = kind.startswith("stream_")
            if kind.endswith("_stream"):  # the answer is a stream
                return self._streaming(inner, method, streamed_requests)
            return self._returning(inner, method, streamed_requests)

        return rebuilt(handler, wrap)

    async def _authenticate(
        self, method: str, context: Any, request: Any, streamed_requests: bool
    ) -> None:
        try:
            _caller.set(self._authenticator.caller_for(method, context.invocation_metadata()))
        except Rejected as rejected:
            await abort(context, rejected, request if streamed_requests else None)

    def _returning(
        self, inner: Callable[..., Awaitable[Any]], method: str, streamed_requests: bool
    ) -> Behaviour:
        """Wraps a handler that answers once (unary or client-streaming requests)."""

        async def handle(request: Any, context: Any) -> Any:
            await self._authenticate(method, context, request, streamed_requests)
            return await inner(request, context)

        return handle

    def _streaming(
        self, inner: Callable[..., AsyncIterator[Any]], method: str, streamed_requests: bool
    ) -> Behaviour:
        """Wraps a handler that answers with a stream (unary or streaming requests)."""

        async def handle(request: Any, context: Any) -> AsyncIterator[Any]:
            await self._authenticate(method, context, request, streamed_requests)
            async for response in inner(request, context):
                yield response

        return handle
