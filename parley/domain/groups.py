"""Group management: who may create, dismiss, add, remove, promote, mute and whitelist.

Owner-only: dismiss, set roles. Owner or admin: add and remove members, mute members or the
whole group, update the whitelist (an admin may not remove or mute another admin). Any member
but the owner may leave. Each decider takes the GroupChange it decides, then its own arguments;
`GroupChange.as_admin` (the server-side AdminService) grants owner rights to any actor but keeps
the existence checks.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from parley.domain import events
from parley.domain.commands import Stamp
from parley.domain.conversations import Conversation, ConversationType, check_id
from parley.domain.directory import NOT_MUTED, UNTIL_LIFTED, GroupState
from parley.domain.errors import Reason, Rejected
from parley.domain.events import Event, GroupRole, Payload
from parley.domain.limits import Limits
from parley.domain.write_model import WriteModel


def group_conversation(group_id: str) -> Conversation:
    return Conversation(ConversationType.GROUP, f"g:{check_id(group_id, 'group id')}")


def check_name(name: str, limits: Limits) -> str:
    if len(name) > limits.name_max_chars:
        raise Rejected(Reason.BAD_PARAMETER, f"names have at most {limits.name_max_chars} chars")
    return name


def check_creation(
    what: str, existing: object | None, creator: str, actor: str, name: str, limits: Limits
) -> None:
    """What creating a group or a room asks: a valid id of its creator (named `creator` in the
    refusal), a name within the limit, and an id that no group or room of its kind ever had
    (`existing`, dismissed ones included)."""
    check_id(actor, f"{creator} id")
    check_name(name, limits)
    if existing is not None:
        raise Rejected(Reason.ALREADY_EXISTS, f"{what} already exists")


def _user_ids(user_ids: Iterable[str], *, allow_empty: bool = False) -> tuple[str, ...]:
    """Valid ids, duplicates dropped, first occurrence order kept."""
    unique = tuple(dict.fromkeys(check_id(user_id, "user id") for user_id in user_ids))
    if not unique and not allow_empty:
        raise Rejected(Reason.BAD_PARAMETER, "no user ids given")
    return unique


# The longest mute: ten years. Its end in milliseconds must fit the events' int64 fields.
MAX_MUTE_S = 10 * 366 * 86400


def mute_until_ms(duration_s: int, now_ms: int) -> int:
    """0 lifts the mute, -1 mutes until lifted, otherwise the mute ends duration_s from now."""
    if duration_s in (NOT_MUTED, UNTIL_LIFTED):
        return duration_s
    if not 0 < duration_s <= MAX_MUTE_S:
        raise Rejected(Reason.BAD_PARAMETER, f"duration_s must be -1, 0 or 1 to {MAX_MUTE_S}")
    return now_ms + duration_s * 1000


def _require_rights(group: GroupState, actor: str, as_admin: bool, *, owner_only: bool) -> None:
    """The actor is a member and the owner or an admin (the owner alone when `owner_only`);
    `as_admin` passes any actor."""
    if as_admin:
        return
    if not group.is_member(actor):
        raise Rejected(Reason.NOT_A_MEMBER, f"{actor!r} is not a member of the group")
    if owner_only and actor != group.owner:
        raise Rejected(Reason.NOT_GROUP_OWNER, "only the group owner may do this")
    if not group.is_manager(actor):
        raise Rejected(Reason.NOT_GROUP_ADMIN, "only the owner or an admin may do this")


@dataclass(frozen=True)
class GroupChange:
    """What every group decision is about: who acts on which group, decided against which write
    model and stamped how; `as_admin` (the server-side AdminService) grants the actor owner
    rights wherever a rule asks for rights."""

    actor: str
    group_id: str
    model: WriteModel
    stamp: Stamp
    as_admin: bool = False

    def managed_group(self, *, owner_only: bool = False) -> GroupState:
        """The live group the actor may manage (see _require_rights); a bad id is refused before
        a missing group."""
        check_id(self.group_id, "group id")
        group = self.model.directory.require_group(self.group_id)
        _require_rights(group, self.actor, self.as_admin, owner_only=owner_only)
        return group

    def event(self, payload: Payload) -> Event:
        """The decided event on the group's conversation, by the actor, under this stamp."""
        return self.stamp.event(group_conversation(self.group_id), self.actor, payload)


def _require_outranks(group: GroupState, actor: str, target: str, as_admin: bool) -> None:
    """An admin acts on plain members only; the owner on everyone but themselves."""
    if target == group.owner:
        raise Rejected(Reason.BAD_PARAMETER, "the owner cannot be removed, muted or demoted")
    if not as_admin and actor != group.owner and group.is_manager(target):
        raise Rejected(Reason.NOT_GROUP_OWNER, "only the owner may act on an admin")


def _require_member_to_act_on(group: GroupState, actor: str, user_id: str, as_admin: bool) -> None:
    """The one member a role change or a mute is about: a valid id, a member of the group, and
    someone the actor outranks."""
    check_id(user_id, "user id")
    if not group.is_member(user_id):
        raise Rejected(Reason.NOT_A_MEMBER, f"{user_id!r} is not a member of the group")
    _require_outranks(group, actor, user_id, as_admin)


def _check_size(count: int, limits: Limits) -> None:
    if count > limits.group_max_members:
        raise Rejected(
            Reason.BAD_PARAMETER, f"a group has at most {limits.group_max_members} members"
        )


def decide_create_group(
    change: GroupChange, name: str, member_ids: Iterable[str], limits: Limits
) -> Event:
    """The actor becomes the owner. A group id is never reused, even after dismissal."""
    actor, group_id = change.actor, change.group_id
    check_id(group_id, "group id")
    existing = change.model.directory.group(group_id)
    check_creation(f"group {group_id!r}", existing, "owner", actor, name, limits)
    members = tuple(user for user in _user_ids(member_ids, allow_empty=True) if user != actor)
    _check_size(len(members) + 1, limits)
    return change.event(events.GroupCreated(group_id, name, actor, members))


def decide_dismiss_group(change: GroupChange) -> Event:
    change.managed_group(owner_only=True)
    return change.event(events.GroupDismissed())


def decide_add_members(change: GroupChange, user_ids: Iterable[str], limits: Limits) -> Event:
    """Adding someone who is already a member is accepted and changes nothing, so a retried add
    succeeds."""
    group = change.managed_group()
    users = _user_ids(user_ids)
    _check_size(len(group.member_ids | set(users)), limits)
    return change.event(events.GroupMembersAdded(users))


def decide_remove_members(change: GroupChange, user_ids: Iterable[str]) -> Event:
    """Removing a non-member is accepted and changes nothing (a retried removal succeeds)."""
    group = change.managed_group()
    users = _user_ids(user_ids)
    for user in users:
        _require_outranks(group, change.actor, user, change.as_admin)
    return change.event(events.GroupMembersRemoved(users))


def decide_leave_group(change: GroupChange) -> Event:
    """The actor leaves on their own account, so `as_admin` changes nothing here."""
    actor = change.actor
    check_id(change.group_id, "group id")
    group = change.model.directory.require_group_member(change.group_id, actor)
    if actor == group.owner:
        raise Rejected(Reason.BAD_PARAMETER, "the owner cannot leave; dismiss the group instead")
    return change.event(events.GroupMembersRemoved((actor,), left=True))


def decide_set_member_role(change: GroupChange, user_id: str, role: GroupRole) -> Event:
    """Promotes to ADMIN or demotes to MEMBER; ownership cannot be handed over this way."""
    group = change.managed_group(owner_only=True)
    if role is GroupRole.OWNER:
        raise Rejected(Reason.BAD_PARAMETER, "role must be MEMBER or ADMIN")
    _require_member_to_act_on(group, change.actor, user_id, as_admin=True)
    return change.event(events.GroupMemberRoleChanged(user_id, role))


def decide_mute_member(change: GroupChange, user_id: str, duration_s: int) -> Event:
    group = change.managed_group()
    _require_member_to_act_on(group, change.actor, user_id, change.as_admin)
    until = mute_until_ms(duration_s, change.stamp.now_ms)
    return change.event(events.GroupMemberMuted(user_id, until))


def decide_mute_group(change: GroupChange, duration_s: int) -> Event:
    """While muted only the owner, admins and whitelisted members may send."""
    change.managed_group()
    until = mute_until_ms(duration_s, change.stamp.now_ms)
    return change.event(events.GroupMuted(until))


def decide_update_whitelist(
    change: GroupChange,
    add_user_ids: Iterable[str],
    remove_user_ids: Iterable[str],
    whitelist_only: bool,
) -> Event:
    """whitelist_only is set absolutely by every update, as the request carries it."""
    change.managed_group()
    added = _user_ids(add_user_ids, allow_empty=True)
    removed = _user_ids(remove_user_ids, allow_empty=True)
    return change.event(events.GroupWhitelistChanged(added, removed, whitelist_only))
