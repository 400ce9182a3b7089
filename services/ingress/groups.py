"""GroupService and RoomService: membership changes, one event each on the conversation stream."""

from __future__ import annotations

from typing import Any, Protocol, TypeVar

from parley.adapters import wire
from parley.domain import groups, rooms
from parley.domain.commands import Stamp
from parley.domain.events import Event
from parley.gen.parley.v1 import ingress_pb2 as pb
from parley.gen.parley.v1 import ingress_pb2_grpc
from services.ingress.decided import Decide, DecidedRpc, IngressServicer
from services.shell.auth import current_caller
from services.shell.clock import random_id
from services.writes.context import DecideAsCaller


class _InGroup(Protocol):
    @property
    def group_id(self) -> str: ...


class _InRoom(Protocol):
    @property
    def room_id(self) -> str: ...


S = TypeVar("S", bound=IngressServicer)
G = TypeVar("G", bound=_InGroup)
R = TypeVar("R", bound=_InRoom)


def _group_answer(request: _InGroup, order_key: int) -> pb.GroupOperationResponse:
    return pb.GroupOperationResponse(group_id=request.group_id, order_key=order_key)


def _room_answer(request: _InRoom, order_key: int) -> pb.RoomOperationResponse:
    return pb.RoomOperationResponse(room_id=request.room_id, order_key=order_key)


def _group_rpc(decide: Decide[S, G]) -> DecidedRpc[S, G, pb.GroupOperationResponse]:
    """Every change is settled: the caller may read its group at once through this process."""
    return DecidedRpc(decide, _group_answer, settle=True)


def _room_rpc(decide: Decide[S, R]) -> DecidedRpc[S, R, pb.RoomOperationResponse]:
    return DecidedRpc(decide, _room_answer, settle=True)


class MembershipChanges(IngressServicer):
    """What GroupServicer, RoomServicer and AdminServicer share: creations for a named owner, and
    how each change the caller asks for is decided (the rules live in parley.domain.groups and
    parley.domain.rooms; this only picks the request's fields)."""

    async def _create(self, context: Any, creator: str | None, decide: DecideAsCaller) -> int:
        """Appends a creation by `creator`, or by the caller when none is named; settled."""
        actor = creator or current_caller().user_id
        return await self._ingress.decide_and_append(
            context, lambda stamp: decide(actor, stamp), settle=True
        )

    async def create_group(
        self, request: pb.CreateGroupRequest, context: Any, owner: str | None = None
    ) -> pb.GroupOperationResponse:
        """CreateGroup: for the caller, or for the owner AdminService.CreateGroupAs names."""
        ingress, group_id = self._ingress, request.group_id or random_id("grp")

        def decide(actor: str, stamp: Stamp) -> Event:
            change = groups.GroupChange(actor, group_id, ingress.model, stamp)
            return groups.decide_create_group(
                change, request.name, request.member_ids, ingress.limits
            )

        order_key = await self._create(context, owner, decide)
        return pb.GroupOperationResponse(group_id=group_id, order_key=order_key)

    async def create_room(
        self, request: pb.CreateRoomRequest, context: Any, creator: str | None = None
    ) -> pb.RoomOperationResponse:
        """CreateRoom: for the caller, or for the creator AdminService.CreateRoomAs names."""
        ingress, room_id = self._ingress, request.room_id or random_id("room")

        def decide(actor: str, stamp: Stamp) -> Event:
            model, limits = ingress.model, ingress.limits
            return rooms.decide_create_room(actor, room_id, request.name, model, limits, stamp)

        order_key = await self._create(context, creator, decide)
        return pb.RoomOperationResponse(room_id=room_id, order_key=order_key)

    def _group_change(self, request: _InGroup, actor: str, stamp: Stamp) -> groups.GroupChange:
        """The caller's change to the request's group; AdminService's carries owner rights."""
        return groups.GroupChange(
            actor, request.group_id, self._ingress.model, stamp, as_admin=self._admin
        )

    def dismiss_group(self, request: pb.GroupRequest, actor: str, stamp: Stamp) -> Event:
        return groups.decide_dismiss_group(self._group_change(request, actor, stamp))

    def add_members(self, request: pb.GroupMembersRequest, actor: str, stamp: Stamp) -> Event:
        change = self._group_change(request, actor, stamp)
        return groups.decide_add_members(change, request.user_ids, self._ingress.limits)

    def remove_members(self, request: pb.GroupMembersRequest, actor: str, stamp: Stamp) -> Event:
        change = self._group_change(request, actor, stamp)
        return groups.decide_remove_members(change, request.user_ids)

    def leave_group(self, request: pb.GroupRequest, actor: str, stamp: Stamp) -> Event:
        return groups.decide_leave_group(self._group_change(request, actor, stamp))

    def set_member_role(
        self, request: pb.SetGroupMemberRoleRequest, actor: str, stamp: Stamp
    ) -> Event:
        change = self._group_change(request, actor, stamp)
        return groups.decide_set_member_role(
            change, request.user_id, wire.group_role_from_proto(request.role)
        )

    def mute_member(self, request: pb.MuteGroupMemberRequest, actor: str, stamp: Stamp) -> Event:
        change = self._group_change(request, actor, stamp)
        return groups.decide_mute_member(change, request.user_id, request.duration_s)

    def mute_group(self, request: pb.MuteGroupRequest, actor: str, stamp: Stamp) -> Event:
        change = self._group_change(request, actor, stamp)
        return groups.decide_mute_group(change, request.duration_s)

    def update_whitelist(
        self, request: pb.UpdateGroupWhitelistRequest, actor: str, stamp: Stamp
    ) -> Event:
        change = self._group_change(request, actor, stamp)
        add, remove = request.add_user_ids, request.remove_user_ids
        return groups.decide_update_whitelist(change, add, remove, request.whitelist_only)

    def enter_room(self, request: pb.RoomRequest, actor: str, stamp: Stamp) -> Event:
        return rooms.decide_enter_room(actor, request.room_id, self._ingress.model, stamp)

    def leave_room(self, request: pb.RoomRequest, actor: str, stamp: Stamp) -> Event:
        return rooms.decide_leave_room(actor, request.room_id, self._ingress.model, stamp)

    def dismiss_room(self, request: pb.RoomRequest, actor: str, stamp: Stamp) -> Event:
        model, admin = self._ingress.model, self._admin
        return rooms.decide_dismiss_room(actor, request.room_id, model, stamp, as_admin=admin)


class GroupServicer(MembershipChanges, ingress_pb2_grpc.GroupServiceServicer):
    """Each RPC: its request decided by a MembershipChanges method, appended, answered."""

    CreateGroup = MembershipChanges.create_group
    DismissGroup = _group_rpc(MembershipChanges.dismiss_group)
    AddGroupMembers = _group_rpc(MembershipChanges.add_members)
    RemoveGroupMembers = _group_rpc(MembershipChanges.remove_members)
    LeaveGroup = _group_rpc(MembershipChanges.leave_group)
    SetGroupMemberRole = _group_rpc(MembershipChanges.set_member_role)
    MuteGroupMember = _group_rpc(MembershipChanges.mute_member)
    MuteGroup = _group_rpc(MembershipChanges.mute_group)
    UpdateGroupWhitelist = _group_rpc(MembershipChanges.update_whitelist)


class RoomServicer(MembershipChanges, ingress_pb2_grpc.RoomServiceServicer):
    """Each RPC: its request decided by a MembershipChanges method, appended, answered."""

    CreateRoom = MembershipChanges.create_room
    EnterRoom = _room_rpc(MembershipChanges.enter_room)
    LeaveRoom = _room_rpc(MembershipChanges.leave_room)
    DismissRoom = _room_rpc(MembershipChanges.dismiss_room)
