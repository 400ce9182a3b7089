"""The directory fold and the send permission rules it answers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parley.domain import events
from parley.domain.conversations import Conversation, ConversationType, user_key
from parley.domain.directory import Directory
from parley.domain.errors import Reason, Rejected
from parley.domain.events import Event, GroupRole, Payload
from tests.unit.domain.redelivery import batches_twice, rewound

GROUP = Conversation(ConversationType.GROUP, "g:team")
ROOM = Conversation(ConversationType.ROOM, "r:lobby")
NOW = 1_000_000


def group_event(payload: Payload, actor: str = "owner", group_id: str = "team") -> Event:
    return Event("e", f"g:{group_id}", ConversationType.GROUP, actor, 0, payload)


def room_event(payload: Payload, actor: str, room_id: str = "lobby") -> Event:
    return Event("e", f"r:{room_id}", ConversationType.ROOM, actor, 0, payload)


def block_event(actor: str, payload: Payload) -> Event:
    return Event("e", user_key(actor), ConversationType.PEER, actor, 0, payload)


def team(*more: Payload) -> Directory:
    directory = Directory()
    directory.apply(group_event(events.GroupCreated("team", "Team", "owner", ("alice", "bob"))))
    for payload in more:
        directory.apply(group_event(payload))
    return directory


def rejection(directory: Directory, conversation: Conversation, sender: str) -> Reason:
    with pytest.raises(Rejected) as caught:
        directory.check_can_send(conversation, sender, NOW)
    return caught.value.reason


def test_directory__group_created_holds_owner_and_members() -> None:
    group = team().group("team")
    assert group is not None
    assert group.owner == "owner"
    assert group.members == {
        "owner": GroupRole.OWNER,
        "alice": GroupRole.MEMBER,
        "bob": GroupRole.MEMBER,
    }


def test_directory__members_added_and_removed() -> None:
    directory = team(events.GroupMembersAdded(("carol",)), events.GroupMembersRemoved(("alice",)))
    group = directory.group("team")
    assert group is not None
    assert set(group.members) == {"owner", "bob", "carol"}


def test_directory__removing_the_owner_is_ignored() -> None:
    group = team(events.GroupMembersRemoved(("owner",))).group("team")
    assert group is not None and "owner" in group.members


def test_directory__role_change_never_touches_ownership() -> None:
    directory = team(
        events.GroupMemberRoleChanged("alice", GroupRole.ADMIN),
        events.GroupMemberRoleChanged("bob", GroupRole.OWNER),
        events.GroupMemberRoleChanged("owner", GroupRole.MEMBER),
    )
    group = directory.group("team")
    assert group is not None
    assert group.members["alice"] is GroupRole.ADMIN
    assert group.members["bob"] is GroupRole.MEMBER
    assert group.members["owner"] is GroupRole.OWNER


def test_directory__second_group_created_for_an_id_is_ignored() -> None:
    directory = team(events.GroupMembersRemoved(("alice",)))
    directory.apply(group_event(events.GroupCreated("team", "Other", "mallory", ("alice",))))
    group = directory.group("team")
    assert group is not None and group.owner == "owner" and "alice" not in group.members


def test_directory__events_after_dismissal_are_ignored() -> None:
    group = team(events.GroupDismissed(), events.GroupMembersAdded(("carol",))).group("team")
    assert group is not None and group.dismissed and "carol" not in group.members


def test_directory__check_can_send__member_of_group_may_send() -> None:
    team().check_can_send(GROUP, "alice", NOW)


def test_directory__check_can_send__unknown_group() -> None:
    assert rejection(Directory(), GROUP, "alice") is Reason.GROUP_NOT_FOUND


def test_directory__check_can_send__dismissed_group() -> None:
    assert rejection(team(events.GroupDismissed()), GROUP, "alice") is Reason.GROUP_DISMISSED


def test_directory__check_can_send__not_a_member() -> None:
    assert rejection(team(), GROUP, "mallory") is Reason.NOT_A_MEMBER


@pytest.mark.parametrize("until", [-1, NOW + 1])
def test_directory__check_can_send__muted_member(until: int) -> None:
    assert rejection(team(events.GroupMemberMuted("alice", until)), GROUP, "alice") is Reason.MUTED


@pytest.mark.parametrize("until", [0, NOW])
def test_directory__check_can_send__lifted_or_passed_member_mute(until: int) -> None:
    team(
        events.GroupMemberMuted("alice", -1), events.GroupMemberMuted("alice", until)
    ).check_can_send(GROUP, "alice", NOW)


def test_directory__check_can_send__muted_group_blocks_plain_members_only() -> None:
    directory = team(
        events.GroupMuted(-1),
        events.GroupMemberRoleChanged("bob", GroupRole.ADMIN),
        events.GroupMembersAdded(("carol",)),
        events.GroupWhitelistChanged(added_user_ids=("carol",)),
    )
    assert rejection(directory, GROUP, "alice") is Reason.MUTED
    for privileged in ("owner", "bob", "carol"):
        directory.check_can_send(GROUP, privileged, NOW)


def test_directory__check_can_send__group_mute_that_has_passed() -> None:
    team(events.GroupMuted(NOW)).check_can_send(GROUP, "alice", NOW)
    assert rejection(team(events.GroupMuted(NOW + 1)), GROUP, "alice") is Reason.MUTED


def test_directory__check_can_send__whitelist_only() -> None:
    directory = team(
        events.GroupWhitelistChanged(added_user_ids=("bob",), whitelist_only=True),
        events.GroupMemberRoleChanged("alice", GroupRole.MEMBER),
    )
    assert rejection(directory, GROUP, "alice") is Reason.NOT_ON_WHITELIST
    directory.check_can_send(GROUP, "bob", NOW)
    directory.check_can_send(GROUP, "owner", NOW)


def test_directory__whitelist_only_off_again_lets_everyone_send() -> None:
    directory = team(
        events.GroupWhitelistChanged(whitelist_only=True),
        events.GroupWhitelistChanged(whitelist_only=False),
    )
    directory.check_can_send(GROUP, "alice", NOW)


def test_directory__removed_member_loses_mute_and_whitelist() -> None:
    directory = team(
        events.GroupMemberMuted("alice", -1),
        events.GroupWhitelistChanged(added_user_ids=("alice",)),
        events.GroupMembersRemoved(("alice",), left=True),
        events.GroupMembersAdded(("alice",)),
    )
    group = directory.group("team")
    assert group is not None and "alice" not in group.whitelist
    directory.check_can_send(GROUP, "alice", NOW)


def test_directory__room_created_enters_its_creator() -> None:
    directory = Directory()
    directory.apply(room_event(events.RoomCreated("lobby", "Lobby"), "alice"))
    room = directory.room("lobby")
    assert room is not None and room.creator == "alice" and room.members == {"alice"}
    directory.check_can_send(ROOM, "alice", NOW)


def test_directory__room_enter_and_leave() -> None:
    directory = Directory()
    directory.apply(room_event(events.RoomCreated("lobby", "Lobby"), "alice"))
    directory.apply(room_event(events.RoomEntered(), "bob"))
    directory.check_can_send(ROOM, "bob", NOW)
    directory.apply(room_event(events.RoomLeft(), "bob"))
    assert rejection(directory, ROOM, "bob") is Reason.NOT_A_MEMBER


def test_directory__check_can_send__missing_or_dismissed_room() -> None:
    directory = Directory()
    assert rejection(directory, ROOM, "alice") is Reason.ROOM_NOT_FOUND
    directory.apply(room_event(events.RoomCreated("lobby", "Lobby"), "alice"))
    directory.apply(room_event(events.RoomDismissed(), "alice"))
    assert rejection(directory, ROOM, "alice") is Reason.ROOM_NOT_FOUND


def test_directory__check_can_send__blocked_by_peer() -> None:
    directory = Directory()
    peer = Conversation.for_request(ConversationType.PEER, "bob", "alice")
    directory.apply(block_event("bob", events.UserBlocked("alice")))
    assert directory.has_blocked("bob", "alice")
    assert not directory.has_blocked("alice", "bob")
    assert rejection(directory, peer, "alice") is Reason.BLOCKED_BY_PEER
    # The blocker may still write to the user they blocked.
    directory.check_can_send(peer, "bob", NOW)
    directory.apply(block_event("bob", events.UserUnblocked("alice")))
    directory.check_can_send(peer, "alice", NOW)


# --- idempotency: any list of events folded twice equals folding it once ----------------------

USERS = st.sampled_from(["owner", "alice", "bob", "carol"])
USER_TUPLES = st.lists(USERS, max_size=3).map(tuple)
MUTE_UNTIL = st.sampled_from([-1, 0, NOW - 1, NOW + 1])
GROUP_PAYLOADS = st.one_of(
    st.builds(events.GroupCreated, st.just("team"), st.just("T"), USERS, USER_TUPLES),
    st.just(events.GroupDismissed()),
    st.builds(events.GroupMembersAdded, USER_TUPLES),
    st.builds(events.GroupMembersRemoved, USER_TUPLES, st.booleans()),
    st.builds(events.GroupMemberRoleChanged, USERS, st.sampled_from(list(GroupRole))),
    st.builds(events.GroupMemberMuted, USERS, MUTE_UNTIL),
    st.builds(events.GroupMuted, MUTE_UNTIL),
    st.builds(events.GroupWhitelistChanged, USER_TUPLES, USER_TUPLES, st.booleans()),
)
ROOM_PAYLOADS = st.one_of(
    st.builds(events.RoomCreated, st.just("lobby"), st.just("L")),
    st.just(events.RoomEntered()),
    st.just(events.RoomLeft()),
    st.just(events.RoomDismissed()),
)
EVENTS = st.one_of(
    st.builds(group_event, GROUP_PAYLOADS, USERS),
    st.builds(room_event, ROOM_PAYLOADS, USERS),
    st.builds(block_event, USERS, st.builds(events.UserBlocked, USERS)),
    st.builds(block_event, USERS, st.builds(events.UserUnblocked, USERS)),
)


# The deciders never emit an event for a group or room before its creation is in the log.
CREATIONS = [
    group_event(events.GroupCreated("team", "T", "owner", ("alice",))),
    room_event(events.RoomCreated("lobby", "L"), "alice"),
]


def fold(history: list[Event]) -> Directory:
    directory = Directory()
    for event in [*CREATIONS, *history]:
        directory.apply(event)
    return directory


def snapshot(directory: Directory) -> tuple[object, ...]:
    return (
        directory.group("team"),
        directory.room("lobby"),
        {
            (a, b)
            for a in ["owner", "alice", "bob", "carol"]
            for b in ["owner", "alice", "bob", "carol"]
            if directory.has_blocked(a, b)
        },
    )


@given(st.lists(EVENTS, max_size=25))
def test_directory__each_event_applied_twice_equals_once(history: list[Event]) -> None:
    doubled = [event for event in history for _ in range(2)]
    assert snapshot(fold(doubled)) == snapshot(fold(history))


@given(st.lists(EVENTS, max_size=25), st.lists(st.integers(1, 5), min_size=1, max_size=8))
def test_directory__batches_redelivered_equal_once(history: list[Event], sizes: list[int]) -> None:
    assert snapshot(fold(batches_twice(history, sizes))) == snapshot(fold(history))


@given(st.lists(EVENTS, max_size=25), st.data())
def test_directory__rewinding_to_an_earlier_offset_equals_once(
    history: list[Event], data: st.DataObject
) -> None:
    assert snapshot(fold(rewound(history, data))) == snapshot(fold(history))
