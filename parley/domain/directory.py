"""The directory: the pure fold of groups, rooms and blacklists, and who may send where."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from parley.domain import events
from parley.domain.conversations import Conversation, ConversationType
from parley.domain.errors import Reason, Rejected
from parley.domain.events import Event, GroupRole

UNTIL_LIFTED = -1  # a muted_until_ms that never passes
NOT_MUTED = 0


def is_muted(muted_until_ms: int, now_ms: int) -> bool:
    """A mute applies until lifted (-1) or while its end lies in the future."""
    return muted_until_ms == UNTIL_LIFTED or muted_until_ms > now_ms


@dataclass
class GroupState:
    """A group as the log made it. Roles and mutes are kept per user apart from membership and
    cleared on removal, so each event writes absolute values (see Directory on redelivery)."""

    group_id: str
    name: str
    owner: str
    member_ids: set[str] = field(default_factory=set)  # the owner included
    roles: dict[str, GroupRole] = field(default_factory=dict)  # absent: MEMBER
    muted_until: dict[str, int] = field(default_factory=dict)  # user -> ms, absent: not muted
    group_muted_until: int = NOT_MUTED
    whitelist: set[str] = field(default_factory=set)
    whitelist_only: bool = False
    dismissed: bool = False

    @property
    def members(self) -> dict[str, GroupRole]:
        """Every member with their role."""
        return {user: self.role_of(user) or GroupRole.MEMBER for user in self.member_ids}

    def is_member(self, user_id: str) -> bool:
        return user_id in self.member_ids

    def role_of(self, user_id: str) -> GroupRole | None:
        """The member's role, None for non-members."""
        if user_id not in self.member_ids:
            return None
        if user_id == self.owner:
            return GroupRole.OWNER
        return self.roles.get(user_id, GroupRole.MEMBER)

    def is_manager(self, user_id: str) -> bool:
        """Owner or admin."""
        return (self.role_of(user_id) or GroupRole.MEMBER) >= GroupRole.ADMIN

    def is_privileged_sender(self, user_id: str) -> bool:
        """Owner, admin or whitelisted: may send while the group is muted or whitelist-only."""
        return self.is_manager(user_id) or user_id in self.whitelist


@dataclass
class RoomState:
    room_id: str
    name: str
    creator: str
    members: set[str] = field(default_factory=set)
    dismissed: bool = False


class Directory:
    """Groups, rooms and blacklists folded from the log.

    Every event writes absolute values for what it names (a member, a role, a flag) without
    looking at other state, and a creation event for an id that exists is ignored, so
    redelivering an event, or re-reading any window of the log, leaves the state unchanged
    (at-least-once delivery is safe). Dismissal is final: later events for the id are ignored.
    The deciders only emit group and room events after the creation is in the log, and the log
    keeps a conversation's events in order, so no event precedes its creation.
    """

    def __init__(self) -> None:
        self._groups: dict[str, GroupState] = {}
        self._rooms: dict[str, RoomState] = {}
        self._blocked: dict[str, set[str]] = {}  # blocker -> blocked users
        # Grows by one per room dismissed: a cleanup compares it to tell cheaply whether a
        # room's media became garbage since its last pass.
        self.rooms_dismissed = 0

    def to_document(self) -> dict[str, Any]:
        """The whole fold as plain JSON values in a canonical order (ids and sets sorted), so
        processes that folded the same events, whatever the interleaving of partitions, write
        the same bytes."""
        return {
            "groups": [_group_document(self._groups[i]) for i in sorted(self._groups)],
            "rooms": [
                [r.room_id, r.name, r.creator, sorted(r.members), r.dismissed]
                for r in (self._rooms[i] for i in sorted(self._rooms))
            ],
            "blocked": [[user, sorted(self._blocked[user])] for user in sorted(self._blocked)],
            "rooms_dismissed": self.rooms_dismissed,
        }

    def restore(self, document: dict[str, Any]) -> None:
        """Replaces the fold with a to_document value."""
        self._groups = {g[0]: _group_from_document(g) for g in document["groups"]}
        self._rooms = {
            room_id: RoomState(room_id, name, creator, set(members), dismissed)
            for room_id, name, creator, members, dismissed in document["rooms"]
        }
        self._blocked = {user: set(others) for user, others in document["blocked"]}
        self.rooms_dismissed = document["rooms_dismissed"]

    def group(self, group_id: str) -> GroupState | None:
        return self._groups.get(group_id)

    def room(self, room_id: str) -> RoomState | None:
        return self._rooms.get(room_id)

    def dismissed_rooms(self) -> list[str]:
        """The ids of the rooms dismissed so far (the media cleanup deletes what they showed)."""
        return [room.room_id for room in self._rooms.values() if room.dismissed]

    def has_blocked(self, user: str, other: str) -> bool:
        """True when `user` has blocked `other`."""
        return other in self._blocked.get(user, ())

    def apply(self, event: Event) -> None:
        payload = event.payload
        if isinstance(payload, events.BlockChanged):
            self._apply_block(event.actor, payload)
        elif event.conversation_type is ConversationType.GROUP:
            self._apply_group(event)
        elif event.conversation_type is ConversationType.ROOM:
            self._apply_room(event)

    def _apply_block(self, actor: str, payload: events.BlockChanged) -> None:
        blocked = self._blocked.setdefault(actor, set())
        if isinstance(payload, events.UserBlocked):
            blocked.add(payload.blocked_user_id)
        else:
            blocked.discard(payload.blocked_user_id)
            if not blocked:
                del self._blocked[actor]

    def _apply_group(self, event: Event) -> None:
        payload = event.payload
        if isinstance(payload, events.GroupCreated):
            if payload.group_id not in self._groups:
                self._groups[payload.group_id] = _new_group(payload)
            return
        group = self._groups.get(_target(event))
        if group is None or group.dismissed:
            return
        if isinstance(payload, events.GroupDismissed):
            group.dismissed = True
        elif isinstance(payload, events.GroupMembersAdded):
            group.member_ids.update(payload.user_ids)
        elif isinstance(payload, events.GroupMembersRemoved):
            for user in payload.user_ids:
                _remove_member(group, user)
        elif isinstance(payload, events.GroupMemberRoleChanged):
            # Ownership is never transferred by a role change: one owner per group.
            if GroupRole.OWNER not in (payload.role, group.role_of(payload.user_id)):
                group.roles[payload.user_id] = payload.role
        elif isinstance(payload, events.GroupMemberMuted):
            _mute_member(group, payload)
        elif isinstance(payload, events.GroupMuted):
            group.group_muted_until = payload.muted_until_ms
        elif isinstance(payload, events.GroupWhitelistChanged):
            group.whitelist |= set(payload.added_user_ids)
            group.whitelist -= set(payload.removed_user_ids)
            group.whitelist_only = payload.whitelist_only

    def _apply_room(self, event: Event) -> None:
        payload = event.payload
        if isinstance(payload, events.RoomCreated):
            if payload.room_id not in self._rooms:
                # The creator enters the room with its creation: no separate RoomEntered.
                self._rooms[payload.room_id] = RoomState(
                    payload.room_id, payload.name, event.actor, {event.actor}
                )
            return
        room = self._rooms.get(_target(event))
        if room is None or room.dismissed:
            return
        if isinstance(payload, events.RoomEntered):
            room.members.add(event.actor)
        elif isinstance(payload, events.RoomLeft):
            room.members.discard(event.actor)
        elif isinstance(payload, events.RoomDismissed):
            room.dismissed = True
            room.members.clear()
            self.rooms_dismissed += 1

    def check_can_send(self, conversation: Conversation, sender: str, now_ms: int) -> None:
        """Rejects a send the conversation's membership, mutes, whitelist or blacklist forbid."""
        if conversation.type is ConversationType.PEER:
            if self.has_blocked(conversation.peer_of(sender), sender):
                raise Rejected(Reason.BLOCKED_BY_PEER, "the recipient has blocked the sender")
        elif conversation.type is ConversationType.ROOM:
            self.require_room_member(conversation.target_id, sender)
        else:
            group = self.require_group_member(conversation.target_id, sender)
            _check_group_send(group, sender, now_ms)

    def require_group(self, group_id: str) -> GroupState:
        """The live group, or GROUP_NOT_FOUND / GROUP_DISMISSED."""
        group = self._groups.get(group_id)
        if group is None:
            raise Rejected(Reason.GROUP_NOT_FOUND, f"no group {group_id!r}")
        if group.dismissed:
            raise Rejected(Reason.GROUP_DISMISSED, f"group {group_id!r} was dismissed")
        return group

    def require_group_member(self, group_id: str, user_id: str) -> GroupState:
        group = self.require_group(group_id)
        if not group.is_member(user_id):
            raise Rejected(Reason.NOT_A_MEMBER, f"{user_id!r} is not a member of {group_id!r}")
        return group

    def require_room(self, room_id: str) -> RoomState:
        """The live room, or ROOM_NOT_FOUND (a dismissed room is gone for good)."""
        room = self._rooms.get(room_id)
        if room is None or room.dismissed:
            raise Rejected(Reason.ROOM_NOT_FOUND, f"no room {room_id!r}")
        return room

    def require_room_member(self, room_id: str, user_id: str) -> RoomState:
        room = self.require_room(room_id)
        if user_id not in room.members:
            raise Rejected(Reason.NOT_A_MEMBER, f"{user_id!r} is not in room {room_id!r}")
        return room


def _group_document(g: GroupState) -> list[Any]:
    return [
        g.group_id, g.name, g.owner, sorted(g.member_ids),
        sorted([user, int(role)] for user, role in g.roles.items()),
        sorted([user, until] for user, until in g.muted_until.items()),
        g.group_muted_until, sorted(g.whitelist), g.whitelist_only, g.dismissed,
    ]  # fmt: skip


def _group_from_document(d: list[Any]) -> GroupState:
    group_id, name, owner, members, roles, muted, group_muted, whitelist, only, dismissed = d
    return GroupState(
        group_id, name, owner, set(members), {user: GroupRole(r) for user, r in roles},
        dict(muted), group_muted, set(whitelist), only, dismissed,
    )  # fmt: skip


def _target(event: Event) -> str:
    return Conversation(event.conversation_type, event.conversation_key).target_id


def _new_group(payload: events.GroupCreated) -> GroupState:
    members = {*payload.member_ids, payload.owner_id}
    return GroupState(payload.group_id, payload.name, payload.owner_id, members)


def _remove_member(group: GroupState, user: str) -> None:
    if user == group.owner:
        return  # the owner never leaves a live group; dismissal ends it
    group.member_ids.discard(user)
    group.roles.pop(user, None)
    group.muted_until.pop(user, None)
    group.whitelist.discard(user)


def _mute_member(group: GroupState, payload: events.GroupMemberMuted) -> None:
    if payload.muted_until_ms == NOT_MUTED:
        group.muted_until.pop(payload.user_id, None)
    else:
        group.muted_until[payload.user_id] = payload.muted_until_ms


def _check_group_send(group: GroupState, sender: str, now_ms: int) -> None:
    if is_muted(group.muted_until.get(sender, NOT_MUTED), now_ms):
        raise Rejected(Reason.MUTED, "the sender is muted in this group")
    privileged = group.is_privileged_sender(sender)
    if is_muted(group.group_muted_until, now_ms) and not privileged:
        raise Rejected(Reason.MUTED, "the group is muted")
    if group.whitelist_only and not privileged:
        raise Rejected(Reason.NOT_ON_WHITELIST, "only whitelisted members may send")
