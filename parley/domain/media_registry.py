"""The media registry: validated uploads and the messages that carry them, folded from the log."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any

from parley.domain.events import (
    AudioContent,
    CombineContent,
    Content,
    Event,
    FileContent,
    ImageContent,
    MediaContent,
    MediaRef,
    MediaUploaded,
    MessageRecalled,
    MessageSent,
    MultipleContent,
    Picture,
    VideoContent,
)
from parley.domain.media_content import MEDIA_CONTENTS
from parley.domain.streams import is_stored


def media_of(content: Content) -> list[MediaContent]:
    """Every media content inside `content`: itself, composite items, forwarded snapshots."""
    if isinstance(content, MEDIA_CONTENTS):
        return [content]
    if isinstance(content, MultipleContent):
        return [media for item in content.items for media in media_of(item)]
    if isinstance(content, CombineContent):
        return [media for fwd in content.messages for media in media_of(fwd.content)]
    return []


def object_ids_of(content: Content) -> tuple[str, ...]:
    """The uploaded objects `content` references, in order, each once."""
    ids = (media.media.object_id for media in media_of(content) if media.media.object_id)
    return tuple(dict.fromkeys(ids))


@dataclass(frozen=True)
class Attachment:
    """One message carrying an object."""

    message_id: str
    conversation_key: str
    recalled: bool = False


@dataclass
class StoredMedia:
    object_id: str
    owner: str  # the uploader
    content: MediaContent  # the full description a message referencing it carries
    uploaded_at_ms: int
    attachments: dict[str, Attachment] = field(default_factory=dict)  # by message id

    @property
    def is_pending(self) -> bool:
        """Uploaded but not yet sent in any message."""
        return not self.attachments

    @property
    def is_withdrawn(self) -> bool:
        """Every message that carried it was recalled."""
        return bool(self.attachments) and all(a.recalled for a in self.attachments.values())


class MediaRegistry:
    """object id -> StoredMedia, and message id -> the object ids it carries.

    Applying is idempotent: an upload or attachment already known is kept as it is (so a
    redelivered send never un-recalls an attachment), and recalling twice changes nothing.
    It is also independent of how partitions interleave: an upload (on its uploader's stream)
    and a message carrying it (on the conversation's) sit in different partitions, and a
    process folding the log may read the message first. Such an attachment waits in `_pending`
    until its upload arrives (the send decider only lets known objects through, so one always
    does).
    """

    def __init__(self) -> None:
        self._objects: dict[str, StoredMedia] = {}
        self._by_message: dict[str, tuple[str, ...]] = {}
        self._pending: dict[str, dict[str, Attachment]] = {}  # object id not folded yet

    def __len__(self) -> int:
        return len(self._objects)

    def to_document(self) -> dict[str, Any]:
        """Objects (with attachments) and the per-message index as plain JSON values, sorted
        (by upload time and id, by message id): the same bytes whatever the interleaving of
        partitions they were folded in."""
        objects = sorted(self._objects.values(), key=lambda s: (s.uploaded_at_ms, s.object_id))
        return {
            "objects": [
                [s.object_id, s.owner, media_to_document(s.content), s.uploaded_at_ms,
                 [[a.message_id, a.conversation_key, a.recalled]
                  for a in (s.attachments[m] for m in sorted(s.attachments))]]
                for s in objects
            ],
            "by_message": [[m, list(self._by_message[m])] for m in sorted(self._by_message)],
            "pending": [
                [oid, [[a.message_id, a.conversation_key, a.recalled]
                       for a in (self._pending[oid][m] for m in sorted(self._pending[oid]))]]
                for oid in sorted(self._pending)
            ],
        }  # fmt: skip

    def restore(self, document: dict[str, Any]) -> None:
        """Replaces the registry with a to_document value."""
        self._objects.clear()
        for object_id, owner, content, uploaded_at_ms, attachments in document["objects"]:
            stored = StoredMedia(object_id, owner, media_from_document(content), uploaded_at_ms)
            for message_id, key, recalled in attachments:
                stored.attachments[message_id] = Attachment(message_id, key, recalled)
            self._objects[object_id] = stored
        self._by_message = {mid: tuple(oids) for mid, oids in document["by_message"]}
        self._pending = {
            oid: {mid: Attachment(mid, key, recalled) for mid, key, recalled in attachments}
            for oid, attachments in document["pending"]
        }

    def get(self, object_id: str) -> StoredMedia | None:
        return self._objects.get(object_id)

    def objects_of(self, message_id: str) -> tuple[str, ...]:
        return self._by_message.get(message_id, ())

    def all(self) -> list[StoredMedia]:
        return list(self._objects.values())

    def apply(self, event: Event) -> None:
        payload = event.payload
        if isinstance(payload, MediaUploaded):
            object_id = payload.content.media.object_id
            if object_id and object_id not in self._objects:
                self._objects[object_id] = StoredMedia(
                    object_id, event.actor, payload.content, event.server_time_ms,
                    self._pending.pop(object_id, {}),
                )  # fmt: skip
        elif isinstance(payload, MessageSent) and is_stored(event):
            self._attach(payload, event.conversation_key)
        elif isinstance(payload, MessageRecalled):
            for object_id in self._by_message.get(payload.message_id, ()):
                attachments = self._attachments_of(object_id)
                attachment = attachments.get(payload.message_id)
                if attachment is not None and attachment.conversation_key == event.conversation_key:
                    attachments[payload.message_id] = replace(attachment, recalled=True)

    def _attachments_of(self, object_id: str) -> dict[str, Attachment]:
        stored = self._objects.get(object_id)
        return stored.attachments if stored is not None else self._pending.setdefault(object_id, {})

    def _attach(self, payload: MessageSent, conversation_key: str) -> None:
        carried = object_ids_of(payload.content)
        if not carried or payload.message_id in self._by_message:
            return
        self._by_message[payload.message_id] = carried
        for object_id in carried:
            self._attachments_of(object_id)[payload.message_id] = Attachment(
                payload.message_id, conversation_key
            )

    def forget(self, object_id: str) -> None:
        """Drops an object whose bytes were deleted (a cleanup job's local view)."""
        stored = self._objects.pop(object_id, None)
        if stored is None:
            return
        for message_id in stored.attachments:
            rest = tuple(o for o in self._by_message.get(message_id, ()) if o != object_id)
            if rest:
                self._by_message[message_id] = rest
            else:
                self._by_message.pop(message_id, None)


_DOCUMENTED = {cls.__name__: cls for cls in (ImageContent, FileContent, AudioContent,
                                             VideoContent, MediaRef, Picture)}  # fmt: skip


def media_to_document(value: Any) -> Any:
    """A media content (and its MediaRef and Picture parts) as [type name, field values...]."""
    if type(value).__name__ in _DOCUMENTED:
        return [type(value).__name__, *(media_to_document(getattr(value, f.name))
                                        for f in fields(value))]  # fmt: skip
    return value


def media_from_document(document: Any) -> Any:
    if isinstance(document, list) and document and document[0] in _DOCUMENTED:
        return _DOCUMENTED[document[0]](*(media_from_document(v) for v in document[1:]))
    return document
