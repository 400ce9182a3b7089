"""ContactService: the per-user blacklist, on the user's own stream."""

from __future__ import annotations

from typing import Any

from parley.domain.contacts import decide_block, decide_unblock
from parley.gen.parley.v1 import ingress_pb2 as pb
from parley.gen.parley.v1 import ingress_pb2_grpc
from services.writes.context import DecideAsCaller, IngressContext


class ContactServicer(ingress_pb2_grpc.ContactServiceServicer):
    def __init__(self, ingress: IngressContext) -> None:
        self._ingress = ingress

    async def _changed(self, context: Any, decide: DecideAsCaller) -> pb.BlockUserResponse:
        order_key = await self._ingress.decide_as_caller(context, decide, settle=True)
        return pb.BlockUserResponse(order_key=order_key)

    async def BlockUser(self, request: pb.BlockUserRequest, context: Any) -> pb.BlockUserResponse:
        model = self._ingress.model
        return await self._changed(
            context, lambda actor, stamp: decide_block(actor, request.user_id, model, stamp)
        )

    async def UnblockUser(self, request: pb.BlockUserRequest, context: Any) -> pb.BlockUserResponse:
        model = self._ingress.model
        return await self._changed(
            context, lambda actor, stamp: decide_unblock(actor, request.user_id, model, stamp)
        )
