"""How the SDK opens channels and makes calls: keepalive, and RPC errors as ParleyError."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, Self, TypeVar

import grpc

from parley.sdk.errors import ParleyError

R = TypeVar("R")

# No client keepalive pings: servers refuse pings more often than every 5 minutes
# ("too_many_pings"); the servers' own keepalive detects dead connections.
CHANNEL_OPTIONS = (
    # Reconnect fast after a server restart (`parley run` restarts crashed children).
    ("grpc.initial_reconnect_backoff_ms", 200),
    ("grpc.max_reconnect_backoff_ms", 2_000),
)
DEFAULT_TIMEOUT_S = 15.0


def channel_for(target: str) -> Any:
    return grpc.aio.insecure_channel(target, options=CHANNEL_OPTIONS)


class Closing:
    """A client that `async with` closes on the way out."""

    async def close(self) -> None:
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


async def call(
    method: Callable[..., Awaitable[R]],
    request: Any,
    metadata: tuple[tuple[str, str], ...],
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> R:
    try:
        return await method(request, metadata=metadata, timeout=timeout_s)
    except grpc.aio.AioRpcError as error:
        raise ParleyError.from_rpc(error) from error
