"""Group, room and contact helpers: `client.groups`, `client.rooms`, `client.contacts`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from parley.gen.parley.v1 import events_pb2, ingress_pb2, ingress_pb2_grpc

Caller = Callable[[Callable[..., Awaitable[Any]], Any], Awaitable[Any]]


class Groups:
    """Every call answers the group id; the change is in the log when it returns."""

    def __init__(self, channel: Any, call: Caller) -> None:
        self._stub = ingress_pb2_grpc.GroupServiceStub(channel)
        self._call = call

    async def _op(self, method: Callable[..., Awaitable[Any]], request: Any) -> str:
        reply = await self._call(method, request)
        return str(reply.group_id)

    async def create(self, name: str, members: Sequence[str], group_id: str = "") -> str:
        request = ingress_pb2.CreateGroupRequest(
            group_id=group_id, name=name, member_ids=list(members)
        )
        return await self._op(self._stub.CreateGroup, request)

    async def dismiss(self, group_id: str) -> str:
        return await self._op(self._stub.DismissGroup, ingress_pb2.GroupRequest(group_id=group_id))

    async def add_members(self, group_id: str, user_ids: Sequence[str]) -> str:
        request = ingress_pb2.GroupMembersRequest(group_id=group_id, user_ids=list(user_ids))
        return await self._op(self._stub.AddGroupMembers, request)

    async def remove_members(self, group_id: str, user_ids: Sequence[str]) -> str:
        request = ingress_pb2.GroupMembersRequest(group_id=group_id, user_ids=list(user_ids))
        return await self._op(self._stub.RemoveGroupMembers, request)

    async def leave(self, group_id: str) -> str:
        return await self._op(self._stub.LeaveGroup, ingress_pb2.GroupRequest(group_id=group_id))

    async def set_admin(self, group_id: str, user_id: str, is_admin: bool = True) -> str:
        role = events_pb2.GROUP_ROLE_ADMIN if is_admin else events_pb2.GROUP_ROLE_MEMBER
        request = ingress_pb2.SetGroupMemberRoleRequest(
            group_id=group_id, user_id=user_id, role=role
        )
        return await self._op(self._stub.SetGroupMemberRole, request)

    async def mute_member(self, group_id: str, user_id: str, duration_s: int = -1) -> str:
        """duration_s: -1 until lifted, 0 lifts the mute."""
        request = ingress_pb2.MuteGroupMemberRequest(
            group_id=group_id, user_id=user_id, duration_s=duration_s
        )
        return await self._op(self._stub.MuteGroupMember, request)

    async def mute(self, group_id: str, duration_s: int = -1) -> str:
        request = ingress_pb2.MuteGroupRequest(group_id=group_id, duration_s=duration_s)
        return await self._op(self._stub.MuteGroup, request)

    async def update_whitelist(
        self,
        group_id: str,
        add: Sequence[str] = (),
        remove: Sequence[str] = (),
        whitelist_only: bool = False,
    ) -> str:
        request = ingress_pb2.UpdateGroupWhitelistRequest(
            group_id=group_id,
            add_user_ids=list(add),
            remove_user_ids=list(remove),
            whitelist_only=whitelist_only,
        )
        return await self._op(self._stub.UpdateGroupWhitelist, request)


class Rooms:
    def __init__(self, channel: Any, call: Caller) -> None:
        self._stub = ingress_pb2_grpc.RoomServiceStub(channel)
        self._call = call

    async def _op(self, method: Callable[..., Awaitable[Any]], room_id: str) -> str:
        reply = await self._call(method, ingress_pb2.RoomRequest(room_id=room_id))
        return str(reply.room_id)

    async def create(self, name: str, room_id: str = "") -> str:
        """Creates a room and enters it."""
        reply = await self._call(
            self._stub.CreateRoom, ingress_pb2.CreateRoomRequest(room_id=room_id, name=name)
        )
        return str(reply.room_id)

    async def enter(self, room_id: str) -> str:
        return await self._op(self._stub.EnterRoom, room_id)

    async def leave(self, room_id: str) -> str:
        return await self._op(self._stub.LeaveRoom, room_id)

    async def dismiss(self, room_id: str) -> str:
        return await self._op(self._stub.DismissRoom, room_id)


class Contacts:
    def __init__(self, channel: Any, call: Caller) -> None:
        self._stub = ingress_pb2_grpc.ContactServiceStub(channel)
        self._call = call

    async def block(self, user_id: str) -> None:
        await self._call(self._stub.BlockUser, ingress_pb2.BlockUserRequest(user_id=user_id))

    async def unblock(self, user_id: str) -> None:
        await self._call(self._stub.UnblockUser, ingress_pb2.BlockUserRequest(user_id=user_id))
