"""Acknowledgements: delivered and read receipts, reading and deleting whole conversations."""

from __future__ import annotations

from enum import IntEnum

from parley.domain.commands import Stamp
from parley.domain.conversations import Conversation, ConversationType
from parley.domain.errors import Reason, Rejected
from parley.domain.events import (
    ConversationDeleted,
    ConversationRead,
    Event,
    MessageDelivered,
    MessageRead,
)
from parley.domain.message_archive import NO_ARCHIVED_MESSAGES, ArchivedMessages, find
from parley.domain.write_model import WriteModel


class AckKind(IntEnum):
    """Mirrors parley.v1.AckKind."""

    DELIVERED = 0
    READ = 1


def keeps_receipts(conversation_type: ConversationType) -> bool:
    """Rooms keep no receipts, read positions, unread counts or conversation lists."""
    return conversation_type is not ConversationType.ROOM


def _conversation(
    actor: str, conversation_type: ConversationType, target_id: str, model: WriteModel
) -> Conversation:
    """A peer or group conversation the actor takes part in: acking, reading or deleting a room
    is TYPE_NOT_ALLOWED (keeps_receipts)."""
    conversation = Conversation.for_request(conversation_type, target_id, actor)
    if not keeps_receipts(conversation.type):
        raise Rejected(Reason.TYPE_NOT_ALLOWED, "rooms have no receipts or read positions")
    if conversation.type is ConversationType.GROUP:
        model.directory.require_group_member(conversation.target_id, actor)
    return conversation


def decide_ack(
    actor: str,
    conversation_type: ConversationType,
    target_id: str,
    message_id: str,
    kind: AckKind,
    model: WriteModel,
    stamp: Stamp,
    archived: ArchivedMessages = NO_ARCHIVED_MESSAGES,
) -> Event:
    """A receipt for someone else's message in this conversation, of any age: a message older
    than the index's window is found in `archived` (what the caller read from the archive).

    Acking one's own message is BAD_PARAMETER (it would count the sender as a reader). Acking a
    recalled message is allowed: the ack may race the recall and is harmless.
    """
    conversation = _conversation(actor, conversation_type, target_id, model)
    record = find(model.messages, archived, message_id)
    if record is None or record.conversation_key != conversation.key:
        raise Rejected(Reason.MESSAGE_NOT_FOUND, f"no message {message_id!r} in this conversation")
    if record.sender == actor:
        raise Rejected(Reason.BAD_PARAMETER, "a sender does not acknowledge their own message")
    payload = MessageRead(message_id) if kind is AckKind.READ else MessageDelivered(message_id)
    return stamp.event(conversation, actor, payload)


def decide_conversation_read(
    actor: str,
    conversation_type: ConversationType,
    target_id: str,
    up_to_seq: int,
    model: WriteModel,
    stamp: Stamp,
) -> Event:
    """Everything read up to a sequence number, or (0) up to this event's place in the log."""
    if up_to_seq < 0:
        raise Rejected(Reason.BAD_PARAMETER, "up_to_seq must be 0 or a sequence number")
    conversation = _conversation(actor, conversation_type, target_id, model)
    return stamp.event(conversation, actor, ConversationRead(up_to_seq))


def decide_delete_conversation(
    actor: str,
    conversation_type: ConversationType,
    target_id: str,
    delete_history: bool,
    model: WriteModel,
    stamp: Stamp,
) -> Event:
    """Removes the conversation from the actor's list (and their view of its history).

    Unlike acks, a group needs only to exist: a former member, or any member of a dismissed
    group, must still be able to clear it from their list.
    """
    conversation = Conversation.for_request(conversation_type, target_id, actor)
    if conversation.type is ConversationType.ROOM:
        raise Rejected(Reason.TYPE_NOT_ALLOWED, "rooms are not kept in conversation lists")
    if conversation.type is ConversationType.GROUP and (
        model.directory.group(conversation.target_id) is None
    ):
        raise Rejected(Reason.GROUP_NOT_FOUND, f"no group {conversation.target_id!r}")
    return stamp.event(conversation, actor, ConversationDeleted(delete_history))
