"""Group management rules."""

from __future__ import annotations

from collections.abc import Callable
from typing import ParamSpec

import pytest

from parley.domain.commands import Stamp
from parley.domain.directory import GroupState
from parley.domain.errors import Reason, Rejected
from parley.domain.events import (
    Event,
    GroupMemberMuted,
    GroupMembersAdded,
    GroupMembersRemoved,
    GroupMuted,
    GroupRole,
    GroupWhitelistChanged,
)
from parley.domain.groups import (
    MAX_MUTE_S,
    GroupChange,
    decide_add_members,
    decide_create_group,
    decide_dismiss_group,
    decide_leave_group,
    decide_mute_group,
    decide_mute_member,
    decide_remove_members,
    decide_set_member_role,
    decide_update_whitelist,
)
from parley.domain.limits import Limits
from parley.domain.write_model import WriteModel

NOW = 1_000_000
STAMP = Stamp(NOW, "ev-1", "req-1")
LIMITS = Limits()
P = ParamSpec("P")


def by(
    actor: str, model: WriteModel, group_id: str = "team", *, as_admin: bool = False
) -> GroupChange:
    """The actor's change to the group ("team" unless named), stamped STAMP."""
    return GroupChange(actor, group_id, model, STAMP, as_admin=as_admin)


def apply(model: WriteModel, event: Event) -> Event:
    model.apply_event(event, 0)
    return event


def team_model() -> WriteModel:
    """owner; admin "ada"; members "alice", "bob"."""
    model = WriteModel()
    apply(
        model,
        decide_create_group(by("owner", model), "Team", ["ada", "alice", "bob"], LIMITS),
    )
    apply(model, decide_set_member_role(by("owner", model), "ada", GroupRole.ADMIN))
    return model


def team(model: WriteModel) -> GroupState:
    group = model.directory.group("team")
    assert group is not None
    return group


def reason_of(decide: Callable[P, Event], *args: P.args, **kwargs: P.kwargs) -> Reason:
    with pytest.raises(Rejected) as caught:
        decide(*args, **kwargs)
    return caught.value.reason


def test_decide_create_group__event_carries_owner_and_deduplicated_members() -> None:
    model = WriteModel()
    event = decide_create_group(by("owner", model), "T", ["a", "b", "a", "owner"], LIMITS)
    assert (event.conversation_key, event.actor, event.event_id) == ("g:team", "owner", "ev-1")
    assert event.server_time_ms == NOW and event.request_id == "req-1"
    apply(model, event)
    assert team(model).members == {
        "owner": GroupRole.OWNER,
        "a": GroupRole.MEMBER,
        "b": GroupRole.MEMBER,
    }


def test_decide_create_group__existing_id_already_exists() -> None:
    model = team_model()
    assert reason_of(decide_create_group, by("x", model), "T", [], LIMITS) is (
        Reason.ALREADY_EXISTS
    )


def test_decide_create_group__dismissed_id_is_not_reused() -> None:
    model = team_model()
    apply(model, decide_dismiss_group(by("owner", model)))
    assert reason_of(decide_create_group, by("x", model), "T", [], LIMITS) is (
        Reason.ALREADY_EXISTS
    )


@pytest.mark.parametrize(
    ("group_id", "name", "members"),
    [("bad id", "T", []), ("team", "n" * 101, []), ("team", "T", ["ok", "not ok"])],
)
def test_decide_create_group__bad_parameters(group_id: str, name: str, members: list[str]) -> None:
    model = WriteModel()
    assert (
        reason_of(decide_create_group, by("owner", model, group_id), name, members, LIMITS)
        is Reason.BAD_PARAMETER
    )


def test_decide_create_group__name_of_100_characters_is_fine() -> None:
    decide_create_group(by("owner", WriteModel()), "名" * 100, [], LIMITS)


def test_decide_create_group__member_limit_counts_the_owner() -> None:
    limits = Limits(group_max_members=3)
    decide_create_group(by("owner", WriteModel()), "T", ["a", "b"], limits)
    assert (
        reason_of(decide_create_group, by("owner", WriteModel()), "T", ["a", "b", "c"], limits)
        is Reason.BAD_PARAMETER
    )


def test_decide_dismiss_group__owner_only() -> None:
    model = team_model()
    assert reason_of(decide_dismiss_group, by("ada", model)) is Reason.NOT_GROUP_OWNER
    assert reason_of(decide_dismiss_group, by("eve", model)) is Reason.NOT_A_MEMBER
    apply(model, decide_dismiss_group(by("owner", model)))
    assert team(model).dismissed


def test_decide_dismiss_group__as_admin_grants_owner_rights_but_checks_existence() -> None:
    model = team_model()
    decide_dismiss_group(by("system", model, as_admin=True))
    assert (
        reason_of(decide_dismiss_group, by("system", model, "nope", as_admin=True))
        is Reason.GROUP_NOT_FOUND
    )


def test_group_deciders__dismissed_group() -> None:
    model = team_model()
    apply(model, decide_dismiss_group(by("owner", model)))
    assert (
        reason_of(decide_add_members, by("owner", model, as_admin=True), ["x"], LIMITS)
        is Reason.GROUP_DISMISSED
    )


def test_decide_add_members__owner_or_admin() -> None:
    model = team_model()
    event = decide_add_members(by("ada", model), ["carol", "carol"], LIMITS)
    assert event.payload == GroupMembersAdded(("carol",))
    assert (
        reason_of(decide_add_members, by("alice", model), ["dan"], LIMITS) is Reason.NOT_GROUP_ADMIN
    )


def test_decide_add_members__empty_list_is_bad_parameter() -> None:
    model = team_model()
    assert reason_of(decide_add_members, by("owner", model), [], LIMITS) is Reason.BAD_PARAMETER


def test_decide_add_members__beyond_the_member_limit() -> None:
    model = team_model()  # 4 members
    limits = Limits(group_max_members=5)
    decide_add_members(by("owner", model), ["alice", "carol"], limits)
    assert (
        reason_of(decide_add_members, by("owner", model), ["carol", "dan"], limits)
        is Reason.BAD_PARAMETER
    )


def test_decide_remove_members__admin_removes_members_not_admins_or_owner() -> None:
    model = team_model()
    assert decide_remove_members(by("ada", model), ["alice"]).payload == (
        GroupMembersRemoved(("alice",))
    )
    apply(model, decide_set_member_role(by("owner", model), "bob", GroupRole.ADMIN))
    assert reason_of(decide_remove_members, by("ada", model), ["bob"]) is Reason.NOT_GROUP_OWNER
    assert reason_of(decide_remove_members, by("owner", model), ["owner"]) is Reason.BAD_PARAMETER
    assert reason_of(decide_remove_members, by("alice", model), ["bob"]) is Reason.NOT_GROUP_ADMIN
    decide_remove_members(by("owner", model), ["bob"])


def test_decide_leave_group__members_leave_the_owner_cannot() -> None:
    model = team_model()
    event = apply(model, decide_leave_group(by("alice", model)))
    assert event.payload == GroupMembersRemoved(("alice",), left=True)
    assert not team(model).is_member("alice")
    assert reason_of(decide_leave_group, by("alice", model)) is Reason.NOT_A_MEMBER
    assert reason_of(decide_leave_group, by("owner", model)) is Reason.BAD_PARAMETER


def test_decide_set_member_role__owner_only_and_never_owner() -> None:
    model = team_model()
    assert team(model).role_of("ada") is GroupRole.ADMIN
    refused = [
        ("ada", "alice", GroupRole.ADMIN, Reason.NOT_GROUP_OWNER),  # an admin is not the owner
        ("owner", "alice", GroupRole.OWNER, Reason.BAD_PARAMETER),  # nobody is made owner
        ("owner", "eve", GroupRole.ADMIN, Reason.NOT_A_MEMBER),
        ("owner", "owner", GroupRole.MEMBER, Reason.BAD_PARAMETER),  # the owner stays owner
    ]
    for actor, user, role, expected in refused:
        reason = reason_of(decide_set_member_role, by(actor, model), user, role)
        assert reason is expected, (actor, user, role)
    apply(model, decide_set_member_role(by("owner", model), "ada", GroupRole.MEMBER))
    assert team(model).role_of("ada") is GroupRole.MEMBER


@pytest.mark.parametrize(("duration_s", "until"), [(0, 0), (-1, -1), (60, NOW + 60_000)])
def test_decide_mute_member__duration_becomes_an_absolute_end(duration_s: int, until: int) -> None:
    model = team_model()
    event = decide_mute_member(by("ada", model), "alice", duration_s)
    assert event.payload == GroupMemberMuted("alice", until)


def test_decide_mute_member__rules() -> None:
    model = team_model()
    assert reason_of(decide_mute_member, by("ada", model), "alice", -2) is Reason.BAD_PARAMETER
    assert reason_of(decide_mute_member, by("alice", model), "bob", 60) is Reason.NOT_GROUP_ADMIN
    assert reason_of(decide_mute_member, by("ada", model), "eve", 60) is Reason.NOT_A_MEMBER
    assert reason_of(decide_mute_member, by("ada", model), "owner", 60) is Reason.BAD_PARAMETER
    apply(model, decide_set_member_role(by("owner", model), "bob", GroupRole.ADMIN))
    assert reason_of(decide_mute_member, by("ada", model), "bob", 60) is Reason.NOT_GROUP_OWNER
    decide_mute_member(by("owner", model), "bob", 60)


def test_decide_mute_group__owner_or_admin() -> None:
    model = team_model()
    assert decide_mute_group(by("ada", model), -1).payload == GroupMuted(-1)
    assert reason_of(decide_mute_group, by("alice", model), -1) is Reason.NOT_GROUP_ADMIN


def test_decide_update_whitelist__owner_or_admin() -> None:
    model = team_model()
    event = decide_update_whitelist(by("ada", model), ["alice"], ["bob"], True)
    assert event.payload == GroupWhitelistChanged(("alice",), ("bob",), True)
    assert (
        reason_of(decide_update_whitelist, by("bob", model), ["bob"], [], False)
        is Reason.NOT_GROUP_ADMIN
    )


def test_group_deciders__unknown_group_and_bad_id() -> None:
    model = WriteModel()
    assert reason_of(decide_mute_group, by("a", model, "nope"), 1) is Reason.GROUP_NOT_FOUND
    # A bad id is refused before the group is looked up.
    assert reason_of(decide_mute_group, by("a", model, "bad id"), 1) is Reason.BAD_PARAMETER


def test_mutes__a_duration_past_the_longest_is_bad_parameter() -> None:
    # Found by the security suite: MuteGroup(duration_s=2**62) answered UNKNOWN, the mute's end
    # in milliseconds overflowing the event's int64 when the log encoded it.
    model = team_model()
    for duration_s in (MAX_MUTE_S + 1, 2**62, 2**63 - 1):
        assert reason_of(decide_mute_group, by("ada", model), duration_s) is Reason.BAD_PARAMETER
        assert reason_of(decide_mute_member, by("ada", model), "bob", duration_s) is (
            Reason.BAD_PARAMETER
        )
    longest = decide_mute_group(by("ada", model), MAX_MUTE_S).payload
    assert longest == GroupMuted(NOW + MAX_MUTE_S * 1000)
