"""Which uploaded objects the media store keeps: a dismissed room keeps nothing."""

from __future__ import annotations

from parley.domain.conversations import Conversation, ConversationType
from parley.domain.directory import Directory
from parley.domain.media_objects import NOTHING_ARCHIVED, ArchivedMedia, StoredMedia
from parley.domain.write_model import WriteModel


def _in_dismissed_room(conversation_key: str, directory: Directory) -> bool:
    conversation = Conversation.from_key(conversation_key)
    is_room = conversation is not None and conversation.type is ConversationType.ROOM
    room = directory.room(conversation.target_id) if conversation and is_room else None
    return room is not None and room.dismissed


def is_left_only_in_dismissed_rooms(stored: StoredMedia, directory: Directory) -> bool:
    """Every message that carried it went to a room since dismissed. An object forwarded
    elsewhere too is kept, for the other conversation's readers."""
    return bool(stored.attachments) and all(
        _in_dismissed_room(a.conversation_key, directory) for a in stored.attachments.values()
    )


def doomed_by_dismissal(
    model: WriteModel, archived: ArchivedMedia = NOTHING_ARCHIVED
) -> list[StoredMedia]:
    """The objects whose bytes (every rendition) are garbage: left only in dismissed rooms,
    among the uploads the registry holds and those `archived` (the cleanup reads there the
    objects of the rooms dismissed since its last pass)."""
    found = (model.media.get(object_id, archived) for object_id in model.media.object_ids(archived))
    return [
        stored
        for stored in found
        if stored is not None and is_left_only_in_dismissed_rooms(stored, model.directory)
    ]
