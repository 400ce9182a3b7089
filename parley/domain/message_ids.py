"""Message ids derived from (sender, client message id), and send fingerprints that tell a retry
from a conflicting reuse of a client message id."""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import fields

from parley.domain.commands import SendCommand
from parley.domain.conversations import Conversation, ConversationType
from parley.domain.errors import Reason, Rejected
from parley.domain.events import (
    CombineContent,
    Content,
    Event,
    MediaContent,
    MessageSent,
    MultipleContent,
    type_of,
)

MESSAGE_ID_PATTERN = re.compile(r"^m_[a-z2-7]{26}$")
# Printable, no whitespace: the id travels in logs, metadata and Kafka headers unescaped.
_CLIENT_MESSAGE_ID_PATTERN = re.compile(r"^[\x21-\x7e]+$")


def _digest(parts: list[bytes]) -> bytes:
    # Length-prefixed parts: no choice of values can make two different tuples hash alike.
    hasher = hashlib.sha256()
    for part in parts:
        hasher.update(len(part).to_bytes(8, "big"))
        hasher.update(part)
    return hasher.digest()


def message_id_for(sender: str, client_message_id: str) -> str:
    """ "m_" + 26 lowercase base32 characters of the first 128 bits of a sha256: deterministic, so a
    retried send carries the same id (and event id) into every consumer."""
    digest = _digest([sender.encode(), client_message_id.encode()])
    return "m_" + base64.b32encode(digest[:16]).decode().rstrip("=").lower()


def is_message_id(value: str) -> bool:
    return MESSAGE_ID_PATTERN.fullmatch(value) is not None


def content_digest(content: Content) -> bytes:
    """16 bytes that tell whether two contents are the same message body (type and every
    field a client can set); what a forward must quote unchanged."""
    return _digest(_content_parts(content))[:16]


def check_client_message_id(value: str, max_chars: int) -> str:
    """Returns the client message id unchanged, or rejects it with BAD_PARAMETER."""
    if len(value) > max_chars or not _CLIENT_MESSAGE_ID_PATTERN.fullmatch(value):
        raise Rejected(
            Reason.BAD_PARAMETER,
            f"client message id must be 1..{max_chars} printable ASCII characters, no spaces",
        )
    return value


def _content_parts(content: Content) -> list[bytes]:
    if isinstance(content, MediaContent):
        return _media_parts(content)
    if isinstance(content, MultipleContent):
        return [b"multiple", *(part for item in content.items for part in _content_parts(item))]
    if isinstance(content, CombineContent):
        parts = [b"combine", content.title.encode(), content.summary.encode()]
        for forwarded in content.messages:
            parts += [forwarded.message_id.encode(), forwarded.sender_id.encode()]
            parts += _content_parts(forwarded.content)
        return parts
    # The flat contents (text, command, barrage, custom): the type's name, then every field.
    kind = type_of(content).name.lower().encode()
    return [kind, *(_field_bytes(getattr(content, field.name)) for field in fields(content))]


def _field_bytes(value: str | bytes | int) -> bytes:
    if isinstance(value, bytes):
        return value
    return value.encode() if isinstance(value, str) else str(value).encode()


def _media_parts(content: MediaContent) -> list[bytes]:
    # An uploaded object is identified by its id alone: the server fills in its description, so
    # a retry that sends a sparser description is still the same message.
    kind = type(content).__name__.encode()
    if content.media.object_id:
        return [kind, b"object", content.media.object_id.encode()]
    return [kind, b"url", repr(content).encode()]


def _fingerprint(
    conversation_key: str, conversation_type: ConversationType, payload: MessageSent
) -> str:
    parts = [conversation_key.encode(), str(int(conversation_type)).encode()]
    parts += _content_parts(payload.content)
    parts.append(b"\x1f".join(user.encode() for user in payload.mentioned_user_ids))
    parts += [
        str(payload.mention_all).encode(),
        str(int(payload.priority)).encode(),
        payload.reply_to_message_id.encode(),
    ]
    parts += [item.encode() for pair in sorted(payload.ext) for item in pair]
    parts.append(str(payload.receipt_requested).encode())
    return _digest(parts).hex()[:32]


def fingerprint_of_event(event: Event) -> str:
    """The fingerprint of an accepted send, computed from its MessageSent event alone: the
    send's as it was before the pre-send hook replaced its content, when it did."""
    if not isinstance(event.payload, MessageSent):
        raise TypeError("only MessageSent events have a send fingerprint")
    if event.payload.original_fingerprint:
        return event.payload.original_fingerprint
    return _fingerprint(event.conversation_key, event.conversation_type, event.payload)


def fingerprint(cmd: SendCommand) -> str:
    """Stable hash of the conversation and every content field of a send.

    Equals fingerprint_of_event of the event the send produces when no interceptor changed it
    (mentions deduplicated in order, ext sorted, as the decider normalises them).
    """
    conversation = Conversation.for_request(cmd.conversation_type, cmd.target_id, cmd.sender)
    return _fingerprint(conversation.key, conversation.type, normalised_payload(cmd, ""))


def normalised_payload(cmd: SendCommand, recipient_id: str) -> MessageSent:
    """The MessageSent a command becomes: canonical mention order and sorted ext."""
    return MessageSent(
        message_id=message_id_for(cmd.sender, cmd.client_message_id),
        content=cmd.content,
        recipient_id=recipient_id,
        mentioned_user_ids=tuple(dict.fromkeys(cmd.mentioned_user_ids)),
        mention_all=cmd.mention_all,
        priority=cmd.priority,
        reply_to_message_id=cmd.reply_to_message_id,
        ext=tuple(sorted(cmd.ext)),
        receipt_requested=cmd.receipt_requested,
    )
