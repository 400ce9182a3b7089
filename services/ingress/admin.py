"""AdminService: the server-side API for other services, authorised by the admin secret."""

from __future__ import annotations

from typing import Any

from parley.adapters import wire
from parley.domain.broadcasts import decide_broadcast
from parley.domain.conversations import check_id
from parley.domain.message_ids import message_id_for
from parley.gen.parley.v1 import ingress_pb2 as pb
from parley.gen.parley.v1 import ingress_pb2_grpc
from services.ingress.groups import GroupServicer, MembershipChanges, RoomServicer
from services.shell.auth import current_caller
from services.webhooks.admin import WebhookAdmin
from services.writes.context import IngressContext


class AdminServicer(MembershipChanges, WebhookAdmin, ingress_pb2_grpc.AdminServiceServicer):
    """The caller, authorised by the admin secret, has owner rights over every group and room."""

    def __init__(self, ingress: IngressContext) -> None:
        super().__init__(ingress, as_admin=True)

    async def IssueToken(
        self, request: pb.IssueTokenRequest, context: Any
    ) -> pb.IssueTokenResponse:
        user_id = check_id(request.user_id, "user_id")
        token, expires_at_ms = self._ingress.tokens.issue(user_id, ttl_s=request.ttl_s or None)
        return pb.IssueTokenResponse(token=token, expires_at_ms=expires_at_ms)

    async def SendMessageAs(
        self, request: pb.SendMessageAsRequest, context: Any
    ) -> pb.SendMessageResponse:
        sender = check_id(request.sender_id, "sender_id")
        command = wire.send_command_from_proto(request.message, sender)
        receipt = await self._ingress.sends.send(
            command, self._ingress.stamp(context), bypass_rate_limit=True
        )
        return wire.receipt_to_proto(receipt)

    async def Broadcast(self, request: pb.BroadcastRequest, context: Any) -> pb.BroadcastResponse:
        actor, ingress = current_caller().user_id, self._ingress
        await ingress.decide_and_append(
            context,
            lambda stamp: decide_broadcast(
                actor,
                request.client_message_id,
                wire.content_from_proto(request.body),
                stamp,
                ingress.limits,
            ),
        )
        return pb.BroadcastResponse(message_id=message_id_for(actor, request.client_message_id))

    async def CreateGroupAs(
        self, request: pb.CreateGroupAsRequest, context: Any
    ) -> pb.GroupOperationResponse:
        owner = check_id(request.owner_id, "owner_id")
        return await self.create_group(request.group, context, owner)

    async def CreateRoomAs(
        self, request: pb.CreateRoomAsRequest, context: Any
    ) -> pb.RoomOperationResponse:
        creator = check_id(request.creator_id, "creator_id")
        return await self.create_room(request.room, context, creator)

    # GroupService's and RoomService's RPCs, with owner rights over every group and room.
    DismissGroupAs = GroupServicer.DismissGroup
    AddGroupMembersAs = GroupServicer.AddGroupMembers
    RemoveGroupMembersAs = GroupServicer.RemoveGroupMembers
    DismissRoomAs = RoomServicer.DismissRoom
