"""GroupService and RoomService: membership changes, one event each on the conversation stream."""

from __future__ import annotations

from typing import Any

from parley.domain import groups, rooms
from parley.domain.events import GroupRole
from parley.gen.parley.v1 import events_pb2, ingress_pb2_grpc
from parley.gen.parley.v1 import ingress_pb2 as pb
from services.shell.auth import current_caller
from services.shell.clock import random_id
from services.writes.context import DecideAsCaller, IngressContext


class _MembershipChanges:
    """What GroupServicer and RoomServicer share. With `as_admin` (the AdminService) the caller
    has owner rights over every group and room. Every change is settled: the caller may read its
    group or room at once through this process."""

    def __init__(self, ingress: IngressContext, *, as_admin: bool = False) -> None:
        self._ingress = ingress
        self._admin = as_admin

    async def _settled(self, context: Any, decide: DecideAsCaller) -> int:
        return await self._ingress.decide_as_caller(context, decide, settle=True)


class GroupServicer(_MembershipChanges, ingress_pb2_grpc.GroupServiceServicer):
    """Owner/admin rules live in parley.domain.groups; this only decodes, runs and answers."""

    async def _changed(
        self, context: Any, group_id: str, decide: DecideAsCaller
    ) -> pb.GroupOperationResponse:
        order_key = await self._settled(context, decide)
        return pb.GroupOperationResponse(group_id=group_id, order_key=order_key)

    async def create(
        self, context: Any, owner: str, request: pb.CreateGroupRequest
    ) -> pb.GroupOperationResponse:
        """CreateGroup for `owner`: the caller, or the owner AdminService.CreateGroupAs names."""
        ingress, group_id = self._ingress, request.group_id or random_id("grp")
        order_key = await ingress.decide_and_append(
            context,
            lambda stamp: groups.decide_create_group(
                owner,
                group_id,
                request.name,
                request.member_ids,
                ingress.model,
                ingress.limits,
                stamp,
            ),
            settle=True,
        )
        return pb.GroupOperationResponse(group_id=group_id, order_key=order_key)

    async def CreateGroup(
        self, request: pb.CreateGroupRequest, context: Any
    ) -> pb.GroupOperationResponse:
        return await self.create(context, current_caller().user_id, request)

    async def DismissGroup(
        self, request: pb.GroupRequest, context: Any
    ) -> pb.GroupOperationResponse:
        group_id, model, as_admin = request.group_id, self._ingress.model, self._admin
        return await self._changed(
            context,
            group_id,
            lambda actor, stamp: groups.decide_dismiss_group(
                actor, group_id, model, stamp, as_admin=as_admin
            ),
        )

    async def AddGroupMembers(
        self, request: pb.GroupMembersRequest, context: Any
    ) -> pb.GroupOperationResponse:
        group_id, ingress, as_admin = request.group_id, self._ingress, self._admin
        return await self._changed(
            context,
            group_id,
            lambda actor, stamp: groups.decide_add_members(
                actor,
                group_id,
                request.user_ids,
                ingress.model,
                ingress.limits,
                stamp,
                as_admin=as_admin,
            ),
        )

    async def RemoveGroupMembers(
        self, request: pb.GroupMembersRequest, context: Any
    ) -> pb.GroupOperationResponse:
        group_id, model, as_admin = request.group_id, self._ingress.model, self._admin
        return await self._changed(
            context,
            group_id,
            lambda actor, stamp: groups.decide_remove_members(
                actor, group_id, request.user_ids, model, stamp, as_admin=as_admin
            ),
        )

    async def LeaveGroup(self, request: pb.GroupRequest, context: Any) -> pb.GroupOperationResponse:
        group_id, model = request.group_id, self._ingress.model
        return await self._changed(
            context,
            group_id,
            lambda actor, stamp: groups.decide_leave_group(actor, group_id, model, stamp),
        )

    async def SetGroupMemberRole(
        self, request: pb.SetGroupMemberRoleRequest, context: Any
    ) -> pb.GroupOperationResponse:
        group_id, model, as_admin = request.group_id, self._ingress.model, self._admin
        role = GroupRole.ADMIN if request.role == events_pb2.GROUP_ROLE_ADMIN else GroupRole.MEMBER
        return await self._changed(
            context,
            group_id,
            lambda actor, stamp: groups.decide_set_member_role(
                actor, group_id, request.user_id, role, model, stamp, as_admin=as_admin
            ),
        )

    async def MuteGroupMember(
        self, request: pb.MuteGroupMemberRequest, context: Any
    ) -> pb.GroupOperationResponse:
        group_id, model, as_admin = request.group_id, self._ingress.model, self._admin
        return await self._changed(
            context,
            group_id,
            lambda actor, stamp: groups.decide_mute_member(
                actor,
                group_id,
                request.user_id,
                request.duration_s,
                model,
                stamp,
                as_admin=as_admin,
            ),
        )

    async def MuteGroup(
        self, request: pb.MuteGroupRequest, context: Any
    ) -> pb.GroupOperationResponse:
        group_id, model, as_admin = request.group_id, self._ingress.model, self._admin
        return await self._changed(
            context,
            group_id,
            lambda actor, stamp: groups.decide_mute_group(
                actor, group_id, request.duration_s, model, stamp, as_admin=as_admin
            ),
        )

    async def UpdateGroupWhitelist(
        self, request: pb.UpdateGroupWhitelistRequest, context: Any
    ) -> pb.GroupOperationResponse:
        group_id, model, as_admin = request.group_id, self._ingress.model, self._admin
        return await self._changed(
            context,
            group_id,
            lambda actor, stamp: groups.decide_update_whitelist(
                actor,
                group_id,
                request.add_user_ids,
                request.remove_user_ids,
                request.whitelist_only,
                model,
                stamp,
                as_admin=as_admin,
            ),
        )


class RoomServicer(_MembershipChanges, ingress_pb2_grpc.RoomServiceServicer):
    """Room rules live in parley.domain.rooms; this only decodes, runs and answers."""

    async def _changed(
        self, context: Any, room_id: str, decide: DecideAsCaller
    ) -> pb.RoomOperationResponse:
        order_key = await self._settled(context, decide)
        return pb.RoomOperationResponse(room_id=room_id, order_key=order_key)

    async def create(
        self, context: Any, creator: str, request: pb.CreateRoomRequest
    ) -> pb.RoomOperationResponse:
        """CreateRoom for `creator`: the caller, or the creator AdminService.CreateRoomAs names."""
        ingress, room_id = self._ingress, request.room_id or random_id("room")
        order_key = await ingress.decide_and_append(
            context,
            lambda stamp: rooms.decide_create_room(
                creator, room_id, request.name, ingress.model, ingress.limits, stamp
            ),
            settle=True,
        )
        return pb.RoomOperationResponse(room_id=room_id, order_key=order_key)

    async def CreateRoom(
        self, request: pb.CreateRoomRequest, context: Any
    ) -> pb.RoomOperationResponse:
        return await self.create(context, current_caller().user_id, request)

    async def EnterRoom(self, request: pb.RoomRequest, context: Any) -> pb.RoomOperationResponse:
        room_id, model = request.room_id, self._ingress.model
        return await self._changed(
            context,
            room_id,
            lambda actor, stamp: rooms.decide_enter_room(actor, room_id, model, stamp),
        )

    async def LeaveRoom(self, request: pb.RoomRequest, context: Any) -> pb.RoomOperationResponse:
        room_id, model = request.room_id, self._ingress.model
        return await self._changed(
            context,
            room_id,
            lambda actor, stamp: rooms.decide_leave_room(actor, room_id, model, stamp),
        )

    async def DismissRoom(self, request: pb.RoomRequest, context: Any) -> pb.RoomOperationResponse:
        room_id, model, as_admin = request.room_id, self._ingress.model, self._admin
        return await self._changed(
            context,
            room_id,
            lambda actor, stamp: rooms.decide_dismiss_room(
                actor, room_id, model, stamp, as_admin=as_admin
            ),
        )
