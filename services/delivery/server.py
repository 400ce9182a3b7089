"""The delivery gRPC server: session streams plus health and reflection, and graceful shutdown."""

from __future__ import annotations

import asyncio
import logging
import signal
from dataclasses import dataclass

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from services.delivery.connect import (
    SERVICE_NAME,
    DeliveryContext,
    DeliveryServicer,
    method_handlers,
)
from services.ingress.bad_input import BadInputInterceptor

log = logging.getLogger(__name__)

# Connects one node accepts arriving at once: the sessions a node holds (20,000).
SESSION_STORM = 20_000

SERVER_OPTIONS = (
    # Several delivery processes may share one port on Linux; the kernel spreads connections.
    ("grpc.so_reuseport", 1),
    # Transport keepalive finds dead peers (a phone that lost its network) within ~30 s, so
    # their sessions and presence do not linger; clients may ping as often as every 10 s.
    ("grpc.keepalive_time_ms", 20_000),
    ("grpc.keepalive_timeout_ms", 10_000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
    ("grpc.http2.max_pings_without_data", 0),
    ("grpc.max_receive_message_length", 1024 * 1024),
    # The gRPC core queues the calls the Python server has not picked up yet and, by default,
    # refuses some past 1000 and all past 3000: the client sees INTERNAL "Internal error from
    # Core". When a node goes away its sessions reconnect at once, so this node must be able to
    # queue a whole node's worth of them (SESSION_STORM); queued calls still expire after 30 s.
    ("grpc.server.max_pending_requests", SESSION_STORM),
    ("grpc.server.max_pending_requests_hard_limit", 2 * SESSION_STORM),
)


@dataclass
class RunningDelivery:
    server: grpc.aio.Server
    health: health.aio.HealthServicer
    context: DeliveryContext
    port: int

    async def stop(self, grace_s: float = 5.0) -> None:
        """Health goes NOT_SERVING, every session gets GoAway and its stream ends UNAVAILABLE."""
        await self.health.enter_graceful_shutdown()
        await self.context.go_away("the node is shutting down: reconnect to another")
        await self.server.stop(grace_s)


async def start_server(context: DeliveryContext, address: str) -> RunningDelivery:
    """Binds `address` ("host:port", port 0 picks one) and starts serving. Authentication runs
    inside Connect (services.ingress.auth.bearer_of + TokenAuthority): the session needs the
    token's expiry, and a coroutine handler (not the interceptor's generator wrapper) can be
    interrupted while blocked on a client that stopped reading. BadInputInterceptor keeps a
    coroutine handler a coroutine: an undecodable frame is BAD_PARAMETER, never UNKNOWN."""
    server = grpc.aio.server(interceptors=[BadInputInterceptor()], options=SERVER_OPTIONS)
    server.add_generic_rpc_handlers((method_handlers(DeliveryServicer(context)),))
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        (SERVICE_NAME, health.SERVICE_NAME, reflection.SERVICE_NAME), server
    )
    port = server.add_insecure_port(address)
    await server.start()
    for name in ("", SERVICE_NAME):
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    log.info("delivery serving", extra={"address": address, "port": port})
    return RunningDelivery(server, health_servicer, context, port)


async def serve_until_signalled(running: RunningDelivery) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    log.info("delivery stopping")
    await running.stop()
