"""The ingress gRPC server: authentication first, then the ingress's servicers and any further
mounts (the read API, media), on the shared shell (services.shell.server)."""

from __future__ import annotations

from collections.abc import Sequence

import grpc

from parley.gen.parley.v1 import ingress_pb2, ingress_pb2_grpc
from services.ingress.admin import AdminServicer
from services.ingress.contacts import ContactServicer
from services.ingress.groups import GroupServicer, RoomServicer
from services.ingress.messaging import MessagingServicer
from services.shell.auth import Authenticator
from services.shell.server import Mount, RunningServer, serve_api
from services.writes.context import IngressContext

SERVICE_NAMES = tuple(
    service.full_name for service in ingress_pb2.DESCRIPTOR.services_by_name.values()
)


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
) -> RunningServer:
    """Binds `address` ("host:port", port 0 picks one) and serves the ingress's services and
    `mounts`."""
    return await serve_api("ingress", authenticator, address, [ingress_services(ingress), *mounts])
