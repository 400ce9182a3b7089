"""Room rules: create (the creator enters), enter, leave, dismiss."""

from __future__ import annotations

import pytest

from parley.domain.commands import Stamp
from parley.domain.errors import Reason, Rejected
from parley.domain.events import RoomCreated, RoomDismissed, RoomEntered, RoomLeft
from parley.domain.limits import Limits
from parley.domain.rooms import (
    decide_create_room,
    decide_dismiss_room,
    decide_enter_room,
    decide_leave_room,
)
from parley.domain.write_model import WriteModel

LIMITS = Limits()
STAMP = Stamp(5, "ev-1")


def lobby() -> WriteModel:
    model = WriteModel()
    model.apply_event(decide_create_room("alice", "lobby", "Lobby", model, LIMITS, STAMP), 0)
    return model


def members(model: WriteModel) -> set[str]:
    room = model.directory.room("lobby")
    assert room is not None
    return room.members


def test_decide_create_room__the_creator_is_in_the_room() -> None:
    model = WriteModel()
    event = decide_create_room("alice", "lobby", "Lobby", model, LIMITS, STAMP)
    assert (event.conversation_key, event.payload) == ("r:lobby", RoomCreated("lobby", "Lobby"))
    model.apply_event(event, 0)
    assert members(model) == {"alice"}


@pytest.mark.parametrize(
    ("room_id", "name", "expected"),
    [
        ("lobby", "L", Reason.ALREADY_EXISTS),
        ("bad id", "L", Reason.BAD_PARAMETER),
        ("other", "n" * 101, Reason.BAD_PARAMETER),
    ],
)
def test_decide_create_room__rejections(room_id: str, name: str, expected: Reason) -> None:
    with pytest.raises(Rejected) as caught:
        decide_create_room("bob", room_id, name, lobby(), LIMITS, STAMP)
    assert caught.value.reason is expected


def test_decide_enter_room__and_leave() -> None:
    model = lobby()
    event = decide_enter_room("bob", "lobby", model, STAMP)
    assert event.payload == RoomEntered()
    model.apply_event(event, 1)
    assert members(model) == {"alice", "bob"}
    left = decide_leave_room("bob", "lobby", model, STAMP)
    assert left.payload == RoomLeft()
    model.apply_event(left, 2)
    assert members(model) == {"alice"}


def test_decide_leave_room__not_in_the_room() -> None:
    with pytest.raises(Rejected) as caught:
        decide_leave_room("bob", "lobby", lobby(), STAMP)
    assert caught.value.reason is Reason.NOT_A_MEMBER


def test_decide_enter_room__missing_room() -> None:
    with pytest.raises(Rejected) as caught:
        decide_enter_room("bob", "nope", lobby(), STAMP)
    assert caught.value.reason is Reason.ROOM_NOT_FOUND


def test_decide_dismiss_room__creator_or_admin_only() -> None:
    model = lobby()
    with pytest.raises(Rejected) as caught:
        decide_dismiss_room("bob", "lobby", model, STAMP)
    assert caught.value.reason is Reason.NOT_GROUP_OWNER
    assert decide_dismiss_room("system", "lobby", model, STAMP, as_admin=True).payload == (
        RoomDismissed()
    )
    model.apply_event(decide_dismiss_room("alice", "lobby", model, STAMP), 1)
    with pytest.raises(Rejected) as gone:
        decide_enter_room("bob", "lobby", model, STAMP)
    assert gone.value.reason is Reason.ROOM_NOT_FOUND
