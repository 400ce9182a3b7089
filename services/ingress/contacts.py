"""ContactService: the per-user blacklist, on the user's own stream."""

from __future__ import annotations

from typing import Any

from parley.domain.contacts import decide_block, decide_unblock
from parley.gen.parley.v1 import ingress_pb2 as pb
from parley.gen.parley.v1 import ingress_pb2_grpc
from services.shell.auth import current_caller
from services.writes.context import IngressContext


class ContactServicer(ingress_pb2_grpc.ContactServiceServicer):
    def __init__(self, ingress: IngressContext) -> None:
        self._ingress = ingress

    async def BlockUser(self, request: pb.BlockUserRequest, context: Any) -> pb.BlockUserResponse:
        actor, ingress = current_caller().user_id, self._ingress
        order_key = await ingress.decide_and_append(
            context,
            lambda stamp: decide_block(actor, request.user_id, ingress.model, stamp),
            settle=True,
        )
        return pb.BlockUserResponse(order_key=order_key)

    async def UnblockUser(self, request: pb.BlockUserRequest, context: Any) -> pb.BlockUserResponse:
        actor, ingress = current_caller().user_id, self._ingress
        order_key = await ingress.decide_and_append(
            context,
            lambda stamp: decide_unblock(actor, request.user_id, ingress.model, stamp),
            settle=True,
        )
        return pb.BlockUserResponse(order_key=order_key)
