"""Rooms (chat rooms): created, entered, left and dismissed; membership is presence."""

from __future__ import annotations

from parley.domain.commands import Stamp
from parley.domain.conversations import Conversation, ConversationType, check_id
from parley.domain.errors import Reason, Rejected
from parley.domain.events import Event, RoomCreated, RoomDismissed, RoomEntered, RoomLeft
from parley.domain.groups import check_creation
from parley.domain.limits import Limits
from parley.domain.write_model import WriteModel


def room_conversation(room_id: str) -> Conversation:
    return Conversation(ConversationType.ROOM, f"r:{check_id(room_id, 'room id')}")


def decide_create_room(
    actor: str, room_id: str, name: str, model: WriteModel, limits: Limits, stamp: Stamp
) -> Event:
    """The creator enters the room with its creation. A room id is never reused."""
    conversation = room_conversation(room_id)
    existing = model.directory.room(room_id)
    check_creation(f"room {room_id!r}", existing, "creator", actor, name, limits)
    return stamp.event(conversation, actor, RoomCreated(room_id, name))


def decide_enter_room(actor: str, room_id: str, model: WriteModel, stamp: Stamp) -> Event:
    """Entering twice is accepted and changes nothing (a reconnecting client re-enters)."""
    conversation = room_conversation(room_id)
    check_id(actor, "user id")
    model.directory.require_room(room_id)
    return stamp.event(conversation, actor, RoomEntered())


def decide_leave_room(actor: str, room_id: str, model: WriteModel, stamp: Stamp) -> Event:
    conversation = room_conversation(room_id)
    model.directory.require_room_member(room_id, actor)
    return stamp.event(conversation, actor, RoomLeft())


def decide_dismiss_room(
    actor: str, room_id: str, model: WriteModel, stamp: Stamp, *, as_admin: bool = False
) -> Event:
    """Only the creator (or the server-side admin API) may dismiss a room."""
    conversation = room_conversation(room_id)
    room = model.directory.require_room(room_id)
    if not as_admin and actor != room.creator:
        raise Rejected(Reason.NOT_GROUP_OWNER, "only the room's creator may dismiss it")
    return stamp.event(conversation, actor, RoomDismissed())
