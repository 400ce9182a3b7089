"""Who may use media: references in a send (own uploads, forwards) and downloads by rendition."""

from __future__ import annotations

from dataclasses import replace
from enum import StrEnum

from parley.domain.conversations import Conversation, ConversationType
from parley.domain.directory import Directory
from parley.domain.errors import Reason, Rejected
from parley.domain.events import (
    CombineContent,
    Content,
    ForwardedMessage,
    ImageContent,
    MediaContent,
    MultipleContent,
    VideoContent,
)
from parley.domain.media_content import MEDIA_CONTENTS
from parley.domain.media_objects import NOTHING_ARCHIVED, ArchivedMedia, StoredMedia
from parley.domain.media_retention import is_left_only_in_dismissed_rooms
from parley.domain.message_archive import NO_ARCHIVED_MESSAGES, ArchivedMessages, find
from parley.domain.message_ids import content_digest
from parley.domain.write_model import WriteModel


class Rendition(StrEnum):
    """What a download asks for; the value is also the object's key suffix in the store."""

    ORIGINAL = "original"
    LARGE = "large"
    THUMBNAIL = "thumbnail"
    FIRST_FRAME = "first_frame"


def renditions_of(content: MediaContent) -> frozenset[Rendition]:
    """Images: original, large, thumbnail; videos: original, first frame; others: original."""
    if isinstance(content, ImageContent):
        return frozenset({Rendition.ORIGINAL, Rendition.LARGE, Rendition.THUMBNAIL})
    if isinstance(content, VideoContent):
        return frozenset({Rendition.ORIGINAL, Rendition.FIRST_FRAME})
    return frozenset({Rendition.ORIGINAL})


def object_key(object_id: str, rendition: Rendition) -> str:
    """Where a rendition lives in the blob store: beside the original, under the object id."""
    return f"media/{object_id}/{rendition.value}"


def can_read(user: str, conversation_key: str, directory: Directory) -> bool:
    """Peers: both participants; groups: members; rooms: members while the room lives."""
    conversation = Conversation.from_key(conversation_key)
    if conversation is None:
        return False
    if conversation.type is ConversationType.PEER:
        return user in conversation.participants
    if conversation.type is ConversationType.GROUP:
        group = directory.group(conversation.target_id)
        return group is not None and group.is_member(user)
    room = directory.room(conversation.target_id)
    return room is not None and not room.dismissed and user in room.members


def _can_reach(stored: StoredMedia, user: str, directory: Directory) -> bool:
    """Through a live message the user can read."""
    return any(
        not a.recalled and can_read(user, a.conversation_key, directory)
        for a in stored.attachments.values()
    )


# --- sends -----------------------------------------------------------------------------------


def resolve_content(
    content: Content,
    sender: str,
    model: WriteModel,
    archived: ArchivedMedia = NOTHING_ARCHIVED,
    archived_messages: ArchivedMessages = NO_ARCHIVED_MESSAGES,
) -> Content:
    """The content a send really carries: every uploaded object replaced by its validated
    description, every forwarded snapshot checked against the message it copies.

    An object may be used by its uploader, or by anyone who can read a live message carrying it
    (forwarding one by one is a plain send of a copied content). Unknown and unreachable objects
    are both MEDIA_NOT_FOUND, so ids cannot be probed. `archived` holds what the caller read
    from the media archive about objects the registry does not hold (`media_lookup`),
    `archived_messages` what it read from the message archive about forwarded messages the
    index does not hold (`message_lookup`).
    """
    if isinstance(content, MEDIA_CONTENTS):
        return _resolve_media(content, sender, model, archived)
    if isinstance(content, MultipleContent):
        items = tuple(
            resolve_content(i, sender, model, archived, archived_messages) for i in content.items
        )
        return replace(content, items=items)
    if isinstance(content, CombineContent):
        messages = tuple(
            _resolve_forwarded(f, sender, model, archived, archived_messages)
            for f in content.messages
        )
        return replace(content, messages=messages)
    return content


def _resolve_media(
    content: MediaContent, sender: str, model: WriteModel, archived: ArchivedMedia
) -> MediaContent:
    object_id = content.media.object_id
    if not object_id:
        return content  # hosted elsewhere: described by the client
    stored = model.media.get(object_id, archived)
    if stored is None or not _can_use(stored, sender, model.directory):
        raise Rejected(Reason.MEDIA_NOT_FOUND, f"no usable upload {object_id!r}")
    if type(stored.content) is not type(content):
        raise Rejected(
            Reason.MEDIA_KIND_MISMATCH,
            f"{object_id!r} was uploaded as {type(stored.content).__name__}, "
            f"not {type(content).__name__}",
        )
    return stored.content


def _can_use(stored: StoredMedia, sender: str, directory: Directory) -> bool:
    """Its uploader may, unless only dismissed rooms carried it: the cleanup deletes its bytes,
    so a new message must not name it."""
    is_uploader = stored.owner == sender
    if is_uploader and not is_left_only_in_dismissed_rooms(stored, directory):
        return True
    return _can_reach(stored, sender, directory)


def _resolve_forwarded(
    forwarded: ForwardedMessage,
    sender: str,
    model: WriteModel,
    archived: ArchivedMedia,
    archived_messages: ArchivedMessages,
) -> ForwardedMessage:
    record = find(model.messages, archived_messages, forwarded.message_id)
    if record is None or not can_read(sender, record.conversation_key, model.directory):
        raise Rejected(Reason.MESSAGE_NOT_FOUND, f"no readable message {forwarded.message_id!r}")
    if record.recalled:
        raise Rejected(Reason.ALREADY_RECALLED, f"{forwarded.message_id!r} was recalled")
    if forwarded.sender_id != record.sender:
        raise Rejected(Reason.BAD_PARAMETER, f"{forwarded.message_id!r} has another sender")
    if content_digest(forwarded.content) != record.content_digest:
        # A merged forward quotes someone: it must carry the original's type and body unchanged.
        raise Rejected(
            Reason.BAD_PARAMETER,
            f"the content forwarded as {forwarded.message_id!r} differs from the original",
        )
    return replace(
        forwarded,
        sent_at_ms=record.sent_at_ms,
        content=resolve_content(forwarded.content, sender, model, archived, archived_messages),
    )


# --- downloads -------------------------------------------------------------------------------


def check_download(
    user: str,
    object_id: str,
    message_id: str,
    rendition: Rendition,
    model: WriteModel,
    archived: ArchivedMedia = NOTHING_ARCHIVED,
) -> StoredMedia:
    """The object a user may download, or the reason not.

    By message: the user must be able to read that message, and it must not be recalled. By
    object id alone: the uploader may fetch an object not yet sent; anyone may fetch one that
    a live message they can read carries. Media of recalled messages is no longer served.
    `archived` holds what the caller read from the media archive (`media_lookup`).
    """
    if message_id:
        stored = _by_message(user, object_id, message_id, model, archived)
    else:
        stored = _by_object(user, object_id, model, archived)
    if rendition not in renditions_of(stored.content):
        raise Rejected(
            Reason.RENDITION_UNAVAILABLE,
            f"{type(stored.content).__name__} has no {rendition.value} rendition",
        )
    return stored


def _by_message(
    user: str, object_id: str, message_id: str, model: WriteModel, archived: ArchivedMedia
) -> StoredMedia:
    carried = model.media.objects_of(message_id, archived)
    if not object_id and len(carried) == 1:
        object_id = carried[0]
    stored = model.media.get(object_id, archived) if object_id in carried else None
    # The archive's tables are written concurrently: a message may be listed a moment before
    # its object's row names it.
    attachment = stored.attachments.get(message_id) if stored is not None else None
    if stored is None or attachment is None:
        raise Rejected(Reason.MEDIA_NOT_FOUND, f"{message_id!r} carries no such media")
    if not can_read(user, attachment.conversation_key, model.directory):
        raise Rejected(Reason.MEDIA_ACCESS_DENIED, f"{user!r} cannot read {message_id!r}")
    if attachment.recalled:
        raise Rejected(Reason.MEDIA_RECALLED, f"{message_id!r} was recalled")
    return stored


def _by_object(
    user: str, object_id: str, model: WriteModel, archived: ArchivedMedia
) -> StoredMedia:
    stored = model.media.get(object_id, archived)
    if stored is None:
        raise Rejected(Reason.MEDIA_NOT_FOUND, f"no media {object_id!r}")
    if _can_reach(stored, user, model.directory) or (stored.is_pending and stored.owner == user):
        return stored
    involved = stored.owner == user or any(
        can_read(user, a.conversation_key, model.directory) for a in stored.attachments.values()
    )
    if stored.is_withdrawn and involved:
        raise Rejected(Reason.MEDIA_RECALLED, f"every message carrying {object_id!r} was recalled")
    raise Rejected(Reason.MEDIA_ACCESS_DENIED, f"{user!r} cannot read any message with it")
