"""The media registry: validated uploads and the messages that carry them, folded from the log."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from parley.domain.events import (
    CombineContent,
    Content,
    Event,
    MediaContent,
    MediaUploaded,
    MessageRecalled,
    MessageSent,
    MultipleContent,
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
    A message referencing an object the registry does not know is not recorded: the send
    decider only lets known objects through.
    """

    def __init__(self) -> None:
        self._objects: dict[str, StoredMedia] = {}
        self._by_message: dict[str, tuple[str, ...]] = {}

    def __len__(self) -> int:
        return len(self._objects)

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
                    object_id, event.actor, payload.content, event.server_time_ms
                )
        elif isinstance(payload, MessageSent) and is_stored(event):
            self._attach(payload, event.conversation_key)
        elif isinstance(payload, MessageRecalled):
            for object_id in self._by_message.get(payload.message_id, ()):
                stored = self._objects[object_id]
                attachment = stored.attachments[payload.message_id]
                if attachment.conversation_key == event.conversation_key:
                    stored.attachments[payload.message_id] = replace(attachment, recalled=True)

    def _attach(self, payload: MessageSent, conversation_key: str) -> None:
        known = tuple(oid for oid in object_ids_of(payload.content) if oid in self._objects)
        if not known or payload.message_id in self._by_message:
            return
        self._by_message[payload.message_id] = known
        for object_id in known:
            self._objects[object_id].attachments[payload.message_id] = Attachment(
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
