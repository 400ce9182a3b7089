"""GroupService and RoomService: membership changes, one event each on the conversation stream."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from parley.domain import groups, rooms
from parley.domain.commands import Stamp
from parley.domain.events import Event, GroupRole
from parley.gen.parley.v1 import events_pb2, ingress_pb2_grpc
from parley.gen.parley.v1 import ingress_pb2 as pb
from services.shell.auth import current_caller
from services.shell.clock import random_id
from services.writes.context import IngressContext


class GroupServicer(ingress_pb2_grpc.GroupServiceServicer):
    """Owner/admin rules live in parley.domain.groups; this only decodes, runs and answers.

    With `as_admin` (the AdminService) the caller has owner rights over every group.
    """

    def __init__(self, ingress: IngressContext, *, as_admin: bool = False) -> None:
        self._ingress = ingress
        self._admin = as_admin

    async def _run(
        self, context: Any, group_id: str, decide: Callable[[str, Stamp], Event]
    ) -> pb.GroupOperationResponse:
        actor = current_caller().user_id
        order_key = await self._ingress.decide_and_append(
            context, lambda stamp: decide(actor, stamp), settle=True
        )
        return pb.GroupOperationResponse(group_id=group_id, order_key=order_key)

    async def CreateGroup(
        self, request: pb.CreateGroupRequest, context: Any
    ) -> pb.GroupOperationResponse:
        group_id, model, limits = (
            request.group_id or random_id("grp"),
            self._ingress.model,
            self._ingress.limits,
        )
        return await self._run(
            context,
            group_id,
            lambda actor, stamp: groups.decide_create_group(
                actor, group_id, request.name, request.member_ids, model, limits, stamp
            ),
        )

    async def DismissGroup(
        self, request: pb.GroupRequest, context: Any
    ) -> pb.GroupOperationResponse:
        model = self._ingress.model
        return await self._run(
            context,
            request.group_id,
            lambda actor, stamp: groups.decide_dismiss_group(
                actor, request.group_id, model, stamp, as_admin=self._admin
            ),
        )

    async def AddGroupMembers(
        self, request: pb.GroupMembersRequest, context: Any
    ) -> pb.GroupOperationResponse:
        model, limits = self._ingress.model, self._ingress.limits
        return await self._run(
            context,
            request.group_id,
            lambda actor, stamp: groups.decide_add_members(
                actor,
                request.group_id,
                request.user_ids,
                model,
                limits,
                stamp,
                as_admin=self._admin,
            ),
        )

    async def RemoveGroupMembers(
        self, request: pb.GroupMembersRequest, context: Any
    ) -> pb.GroupOperationResponse:
        model = self._ingress.model
        return await self._run(
            context,
            request.group_id,
            lambda actor, stamp: groups.decide_remove_members(
                actor, request.group_id, request.user_ids, model, stamp, as_admin=self._admin
            ),
        )

    async def LeaveGroup(self, request: pb.GroupRequest, context: Any) -> pb.GroupOperationResponse:
        model = self._ingress.model
        return await self._run(
            context,
            request.group_id,
            lambda actor, stamp: groups.decide_leave_group(actor, request.group_id, model, stamp),
        )

    async def SetGroupMemberRole(
        self, request: pb.SetGroupMemberRoleRequest, context: Any
    ) -> pb.GroupOperationResponse:
        model = self._ingress.model
        role = GroupRole.ADMIN if request.role == events_pb2.GROUP_ROLE_ADMIN else GroupRole.MEMBER
        return await self._run(
            context,
            request.group_id,
            lambda actor, stamp: groups.decide_set_member_role(
                actor, request.group_id, request.user_id, role, model, stamp, as_admin=self._admin
            ),
        )

    async def MuteGroupMember(
        self, request: pb.MuteGroupMemberRequest, context: Any
    ) -> pb.GroupOperationResponse:
        model = self._ingress.model
        return await self._run(
            context,
            request.group_id,
            lambda actor, stamp: groups.decide_mute_member(
                actor,
                request.group_id,
                request.user_id,
                request.duration_s,
                model,
                stamp,
                as_admin=self._admin,
            ),
        )

    async def MuteGroup(
        self, request: pb.MuteGroupRequest, context: Any
    ) -> pb.GroupOperationResponse:
        model = self._ingress.model
        return await self._run(
            context,
            request.group_id,
            lambda actor, stamp: groups.decide_mute_group(
                actor, request.group_id, request.duration_s, model, stamp, as_admin=self._admin
            ),
        )

    async def UpdateGroupWhitelist(
        self, request: pb.UpdateGroupWhitelistRequest, context: Any
    ) -> pb.GroupOperationResponse:
        model = self._ingress.model
        return await self._run(
            context,
            request.group_id,
            lambda actor, stamp: groups.decide_update_whitelist(
                actor,
                request.group_id,
                request.add_user_ids,
                request.remove_user_ids,
                request.whitelist_only,
                model,
                stamp,
                as_admin=self._admin,
            ),
        )


class RoomServicer(ingress_pb2_grpc.RoomServiceServicer):
    def __init__(self, ingress: IngressContext, *, as_admin: bool = False) -> None:
        self._ingress = ingress
        self._admin = as_admin

    async def _run(
        self, context: Any, room_id: str, decide: Callable[[str, Stamp], Event]
    ) -> pb.RoomOperationResponse:
        actor = current_caller().user_id
        order_key = await self._ingress.decide_and_append(
            context, lambda stamp: decide(actor, stamp), settle=True
        )
        return pb.RoomOperationResponse(room_id=room_id, order_key=order_key)

    async def CreateRoom(
        self, request: pb.CreateRoomRequest, context: Any
    ) -> pb.RoomOperationResponse:
        room_id, model, limits = (
            request.room_id or random_id("room"),
            self._ingress.model,
            self._ingress.limits,
        )
        return await self._run(
            context,
            room_id,
            lambda actor, stamp: rooms.decide_create_room(
                actor, room_id, request.name, model, limits, stamp
            ),
        )

    async def EnterRoom(self, request: pb.RoomRequest, context: Any) -> pb.RoomOperationResponse:
        model = self._ingress.model
        return await self._run(
            context,
            request.room_id,
            lambda actor, stamp: rooms.decide_enter_room(actor, request.room_id, model, stamp),
        )

    async def LeaveRoom(self, request: pb.RoomRequest, context: Any) -> pb.RoomOperationResponse:
        model = self._ingress.model
        return await self._run(
            context,
            request.room_id,
            lambda actor, stamp: rooms.decide_leave_room(actor, request.room_id, model, stamp),
        )

    async def DismissRoom(self, request: pb.RoomRequest, context: Any) -> pb.RoomOperationResponse:
        model = self._ingress.model
        return await self._run(
            context,
            request.room_id,
            lambda actor, stamp: rooms.decide_dismiss_room(
                actor, request.room_id, model, stamp, as_admin=self._admin
            ),
        )
