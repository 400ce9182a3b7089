"""The ingress gRPC server: authentication first, then the servicers, plus health and reflection."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from parley.gen.parley.v1 import ingress_pb2, ingress_pb2_grpc
from services.ingress.admin import AdminServicer
from services.ingress.auth import Authenticator, AuthInterceptor
from services.ingress.bad_input import BadInputInterceptor
from services.ingress.contacts import ContactServicer
from services.ingress.context import IngressContext
from services.ingress.groups import GroupServicer, RoomServicer
from services.ingress.messaging import MessagingServicer

log = logging.getLogger(__name__)

SERVICE_NAMES = tuple(
    service.full_name for service in ingress_pb2.DESCRIPTOR.services_by_name.values()
)

SERVER_OPTIONS = (
    # Several ingress processes share one port on Linux; the kernel spreads connections.
    ("grpc.so_reuseport", 1),
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.keepalive_timeout_ms", 10_000),
    ("grpc.http2.max_pings_without_data", 0),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.max_receive_message_length", 4 * 1024 * 1024),
)


@dataclass
class RunningIngress:
    server: grpc.aio.Server
    health: health.aio.HealthServicer
    port: int

    async def stop(self, grace_s: float = 5.0) -> None:
        await self.health.enter_graceful_shutdown()
        await self.server.stop(grace_s)


# Adds more services (read API, media) to the server and returns their full names.
Mount = Callable[[grpc.aio.Server], Sequence[str]]


def ingress_services(ingress: IngressContext) -> Mount:
    """The ingress's own services: messaging, groups, rooms, contacts and admin."""

    def mount(server: grpc.aio.Server) -> Sequence[str]:
        ingress_pb2_grpc.add_MessagingServiceServicer_to_server(MessagingServicer(ingress), server)
        ingress_pb2_grpc.add_GroupServiceServicer_to_server(GroupServicer(ingress), server)
        ingress_pb2_grpc.add_RoomServiceServicer_to_server(RoomServicer(ingress), server)
        ingress_pb2_grpc.add_ContactServiceServicer_to_server(ContactServicer(ingress), server)
        ingress_pb2_grpc.add_AdminServiceServicer_to_server(AdminServicer(ingress), server)
        return SERVICE_NAMES

    return mount


async def start_server(
    ingress: IngressContext,
    authenticator: Authenticator,
    address: str,
    mounts: Sequence[Mount] = (),
) -> RunningIngress:
    """Binds `address` ("host:port", port 0 picks one) and serves the ingress's services and
    `mounts`."""
    return await serve_mounts(authenticator, address, [ingress_services(ingress), *mounts])


async def serve_mounts(
    authenticator: Authenticator, address: str, mounts: Sequence[Mount]
) -> RunningIngress:
    """A server with authentication first, then `mounts`, plus health and reflection; bad input
    (an undecodable request, an escaped rejection) answers its rejection status on every RPC."""
    server = grpc.aio.server(
        interceptors=[AuthInterceptor(authenticator), BadInputInterceptor()],
        options=SERVER_OPTIONS,
    )
    names = [name for mount in mounts for name in mount(server)]
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        (*names, health.SERVICE_NAME, reflection.SERVICE_NAME), server
    )
    port = server.add_insecure_port(address)
    await server.start()
    for name in ("", *names):
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    log.info("serving", extra={"address": address, "port": port, "services": names})
    return RunningIngress(server, health_servicer, port)


async def serve_until_signalled(running: RunningIngress) -> None:
    """Serves until SIGINT/SIGTERM, then drains in-flight calls before returning."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    log.info("ingress stopping")
    await running.stop()
