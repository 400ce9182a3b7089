"""Server start-up every service shares: its mounts, health and reflection, graceful shutdown."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from services.shell.auth import Authenticator, AuthInterceptor
from services.shell.bad_input import BadInputInterceptor

log = logging.getLogger(__name__)

API_SERVER_OPTIONS = (
    # Several API processes (ingress workers) share one port on Linux; the kernel spreads
    # connections.
    ("grpc.so_reuseport", 1),
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.keepalive_timeout_ms", 10_000),
    ("grpc.http2.max_pings_without_data", 0),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.max_receive_message_length", 4 * 1024 * 1024),
)


# Adds services to a server and returns their full names (for reflection and health).
Mount = Callable[[grpc.aio.Server], Sequence[str]]


async def _nothing() -> None:
    return None


@dataclass
class RunningServer:
    server: grpc.aio.Server
    health: health.aio.HealthServicer
    port: int
    # Runs after health says NOT_SERVING and before in-flight calls are drained.
    before_stop: Callable[[], Awaitable[None]] = field(default=_nothing)

    async def stop(self, grace_s: float = 5.0) -> None:
        await self.health.enter_graceful_shutdown()
        await self.before_stop()
        await self.server.stop(grace_s)


async def serve(
    name: str,
    address: str,
    mounts: Sequence[Mount],
    interceptors: Sequence[grpc.aio.ServerInterceptor],
    options: Sequence[tuple[str, int]],
) -> RunningServer:
    """Binds `address` ("host:port", port 0 picks one) and serves `mounts` behind
    `interceptors`, plus health (SERVING once started) and reflection."""
    server = grpc.aio.server(interceptors=list(interceptors), options=list(options))
    names = [service for mount in mounts for service in mount(server)]
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        (*names, health.SERVICE_NAME, reflection.SERVICE_NAME), server
    )
    port = server.add_insecure_port(address)
    await server.start()
    for service in ("", *names):
        await health_servicer.set(service, health_pb2.HealthCheckResponse.SERVING)
    log.info(f"{name} serving", extra={"address": address, "port": port, "services": names})
    return RunningServer(server, health_servicer, port)


async def serve_api(
    name: str, authenticator: Authenticator, address: str, mounts: Sequence[Mount]
) -> RunningServer:
    """An API server (the ingress's, the media server's): authentication first, then `mounts`;
    bad input (an undecodable request, an escaped rejection) answers its rejection status on
    every RPC."""
    interceptors = [AuthInterceptor(authenticator), BadInputInterceptor()]
    return await serve(name, address, mounts, interceptors, API_SERVER_OPTIONS)


async def serve_until_signalled(running: RunningServer) -> None:
    """Serves until SIGINT/SIGTERM, then drains in-flight calls before returning."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    log.info("stopping")
    await running.stop()
