"""What the media rules decide on: an uploaded object and the messages that carried it, the
objects a content references, and the plain JSON form of a media description."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from parley.domain.events import (
    AudioContent,
    CombineContent,
    Content,
    FileContent,
    ImageContent,
    MediaContent,
    MediaRef,
    MultipleContent,
    Picture,
    VideoContent,
)
from parley.domain.media_content import MEDIA_CONTENTS


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
    """An upload and every message that carried it: what the media rules decide on."""

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


@dataclass(frozen=True)
class ArchivedMedia:
    """What a decision read from the media archive, for what the registry no longer holds:
    objects as the projector stored them, and the objects of messages by message id."""

    objects: Mapping[str, StoredMedia] = field(default_factory=dict)
    messages: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


NOTHING_ARCHIVED = ArchivedMedia()


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
