"""Shape rules of rich content: media references, composite item counts, merged forwards."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable

from parley.domain.errors import Reason, Rejected
from parley.domain.events import (
    AudioContent,
    CombineContent,
    Content,
    CustomContent,
    FileContent,
    ImageContent,
    MediaContent,
    MessageType,
    MultipleContent,
    TextContent,
    VideoContent,
    type_of,
)
from parley.domain.limits import Limits
from parley.domain.message_ids import is_message_id

OBJECT_ID_PATTERN = re.compile(r"^o_[a-z2-7]{26}$")
MEDIA_CONTENTS = (ImageContent, FileContent, AudioContent, VideoContent)
RICH_CONTENTS = (*MEDIA_CONTENTS, MultipleContent, CombineContent)
ITEM_CONTENTS = (TextContent, CustomContent, *MEDIA_CONTENTS)
# Composite items of which at most one may appear; images have their own count.
SINGLE_ITEM_TYPES = frozenset(
    {MessageType.FILE, MessageType.AUDIO, MessageType.VIDEO, MessageType.CUSTOM}
)

CheckContent = Callable[[Content, Limits], None]


def is_object_id(value: str) -> bool:
    return OBJECT_ID_PATTERN.fullmatch(value) is not None


def media_max_bytes(kind: MessageType, limits: Limits) -> int:
    return {
        MessageType.IMAGE: limits.image_max_bytes,
        MessageType.FILE: limits.file_max_bytes,
        MessageType.AUDIO: limits.audio_max_bytes,
        MessageType.VIDEO: limits.video_max_bytes,
    }[kind]


def check_size(kind: MessageType, size: int, limits: Limits) -> None:
    limit = media_max_bytes(kind, limits)
    if size > limit:
        raise Rejected(
            Reason.MEDIA_TOO_LARGE, f"{kind.name.lower()} is {size} bytes, the limit is {limit}"
        )


def check_duration(kind: MessageType, duration_ms: int, limits: Limits) -> None:
    if kind is MessageType.AUDIO and duration_ms > limits.audio_max_duration_ms:
        raise Rejected(
            Reason.MEDIA_DURATION_EXCEEDED,
            f"audio lasts {duration_ms / 1000:.1f} s, at most "
            f"{limits.audio_max_duration_ms // 1000} s",
        )


def check_media_reference(content: MediaContent, limits: Limits) -> None:
    """An uploaded object (by id) or an external http(s) URL, never both; an external media's
    own description must still respect its type's limits."""
    media, kind = content.media, type_of(content)
    if bool(media.object_id) == bool(media.url):
        raise Rejected(Reason.BAD_PARAMETER, "media needs exactly one of object_id and url")
    if media.object_id:
        if not is_object_id(media.object_id):
            raise Rejected(Reason.BAD_PARAMETER, "object_id is not a media object id")
        return
    if (
        not media.url.startswith(("https://", "http://"))
        or len(media.url) > limits.media_url_max_chars
    ):
        raise Rejected(Reason.BAD_PARAMETER, "media url must be http(s), at most 2048 characters")
    check_size(kind, media.size_bytes, limits)
    if isinstance(content, (AudioContent, VideoContent)):
        check_duration(kind, content.duration_ms, limits)


def check_multiple(content: MultipleContent, limits: Limits, check_item: CheckContent) -> None:
    """At most 20 items: texts, at most 10 images, one file, one audio, one video, one custom."""
    if not content.items:
        raise Rejected(Reason.BAD_PARAMETER, "a composite message needs at least one item")
    if len(content.items) > limits.multiple_max_items:
        raise Rejected(
            Reason.TOO_MANY_ITEMS,
            f"{len(content.items)} items, at most {limits.multiple_max_items}",
        )
    for item in content.items:
        if not isinstance(item, ITEM_CONTENTS):
            raise Rejected(
                Reason.ITEM_TYPE_NOT_ALLOWED,
                f"a composite cannot hold {type_of(item).name.lower()} items",
            )
    counts = Counter(type_of(item) for item in content.items)
    if counts[MessageType.IMAGE] > limits.multiple_max_images:
        raise Rejected(
            Reason.TOO_MANY_IMAGES,
            f"{counts[MessageType.IMAGE]} images, at most {limits.multiple_max_images}",
        )
    repeated = sorted(kind.name.lower() for kind in SINGLE_ITEM_TYPES if counts[kind] > 1)
    if repeated:
        raise Rejected(Reason.DUPLICATE_ITEM_KIND, f"more than one {', '.join(repeated)} item")
    for item in content.items:
        check_item(item, limits)


def check_combine(content: CombineContent, limits: Limits, check_item: CheckContent) -> None:
    """A titled, non-empty list of distinct message ids; snapshots obey their own type's rules."""
    if not content.title:
        raise Rejected(Reason.BAD_PARAMETER, "a merged forward needs a title")
    if not content.messages:
        raise Rejected(Reason.BAD_PARAMETER, "a merged forward needs at least one message")
    ids = [forwarded.message_id for forwarded in content.messages]
    if not all(is_message_id(message_id) for message_id in ids) or len(set(ids)) != len(ids):
        raise Rejected(Reason.BAD_PARAMETER, "forwarded message ids must be distinct message ids")
    for forwarded in content.messages:
        check_item(forwarded.content, limits)


def check_rich_content(content: Content, limits: Limits, check_item: CheckContent) -> None:
    if isinstance(content, MultipleContent):
        check_multiple(content, limits, check_item)
    elif isinstance(content, CombineContent):
        check_combine(content, limits, check_item)
    elif isinstance(content, MEDIA_CONTENTS):
        check_media_reference(content, limits)
