"""Content rules of a send: type per conversation, sizes in UTF-8 bytes, mentions, ext, replies."""

from __future__ import annotations

from parley.domain.conversations import ConversationType, check_id
from parley.domain.errors import Reason, Rejected
from parley.domain.events import (
    BarrageContent,
    CommandContent,
    Content,
    CustomContent,
    MessageType,
    TextContent,
    type_of,
)
from parley.domain.limits import Limits
from parley.domain.media_content import RICH_CONTENTS, check_rich_content
from parley.domain.message_ids import is_message_id


def check_type_allowed(content: Content, conversation_type: ConversationType) -> None:
    """Barrage exists only in rooms; every other type (command included) is allowed anywhere."""
    if type_of(content) is MessageType.BARRAGE and conversation_type is not ConversationType.ROOM:
        raise Rejected(Reason.TYPE_NOT_ALLOWED, "barrage messages are for rooms only")


def content_size(content: Content) -> int:
    """Size in UTF-8 bytes; for custom content, data and searchable content together."""
    if isinstance(content, (TextContent, BarrageContent)):
        return len(content.text.encode())
    if isinstance(content, CommandContent):
        return len(content.data)
    if isinstance(content, CustomContent):
        return len(content.data.encode()) + len(content.searchable_content.encode())
    raise TypeError(f"unknown content {type(content).__name__}")


def size_limit(content: Content, limits: Limits) -> int:
    if isinstance(content, TextContent):
        return limits.text_max_bytes
    if isinstance(content, CommandContent):
        return limits.command_max_bytes
    if isinstance(content, BarrageContent):
        return limits.barrage_max_bytes
    return limits.custom_max_bytes


def check_content(content: Content, limits: Limits) -> None:
    """Text and barrage must say something; no content may exceed its type's byte limit.
    Media, composite and merged-forward content follow their own shape rules."""
    if isinstance(content, RICH_CONTENTS):
        check_rich_content(content, limits, check_content)
        return
    if isinstance(content, (TextContent, BarrageContent)) and not content.text:
        raise Rejected(Reason.BAD_PARAMETER, "the text is empty")
    size = content_size(content)
    limit = size_limit(content, limits)
    if size > limit:
        kind = type_of(content).name.lower()
        raise Rejected(Reason.MESSAGE_TOO_LARGE, f"{kind} is {size} bytes, the limit is {limit}")


def check_mentions(
    mentioned_user_ids: tuple[str, ...],
    mention_all: bool,
    conversation_type: ConversationType,
    limits: Limits,
) -> None:
    """Mentions exist only in groups; elsewhere they are rejected rather than silently dropped,
    so a client bug shows up at once. Duplicates count once."""
    if not mentioned_user_ids and not mention_all:
        return
    if conversation_type is not ConversationType.GROUP:
        raise Rejected(Reason.BAD_PARAMETER, "mentions are only allowed in groups")
    distinct = set(mentioned_user_ids)
    if len(distinct) > limits.max_mentions:
        raise Rejected(
            Reason.TOO_MANY_MENTIONS,
            f"{len(distinct)} mentioned users, at most {limits.max_mentions}; use mention all",
        )
    for user_id in distinct:
        check_id(user_id, "mentioned user id")


def check_ext(ext: tuple[tuple[str, str], ...], limits: Limits) -> None:
    if len(ext) > limits.ext_max_entries:
        raise Rejected(Reason.BAD_PARAMETER, f"ext has more than {limits.ext_max_entries} entries")
    keys = [key for key, _ in ext]
    if "" in keys or len(set(keys)) != len(keys):
        raise Rejected(Reason.BAD_PARAMETER, "ext keys must be non-empty and unique")
    size = sum(len(key.encode()) + len(value.encode()) for key, value in ext)
    if size > limits.ext_max_bytes:
        raise Rejected(
            Reason.BAD_PARAMETER, f"ext is {size} bytes, the limit is {limits.ext_max_bytes}"
        )


def check_reply_to(reply_to_message_id: str) -> None:
    if reply_to_message_id and not is_message_id(reply_to_message_id):
        raise Rejected(Reason.BAD_PARAMETER, "reply_to_message_id is not a message id")
