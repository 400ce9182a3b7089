"""Recall: who may take a message back, and until when."""

from __future__ import annotations

from parley.domain.commands import Stamp
from parley.domain.conversations import Conversation, ConversationType
from parley.domain.errors import Reason, Rejected
from parley.domain.events import Event, MessageRecalled
from parley.domain.limits import Limits
from parley.domain.message_archive import NO_ARCHIVED_MESSAGES, ArchivedMessages, find
from parley.domain.message_index import MessageRecord
from parley.domain.write_model import WriteModel


def decide_recall(
    actor: str,
    conversation_type: ConversationType,
    target_id: str,
    message_id: str,
    model: WriteModel,
    limits: Limits,
    stamp: Stamp,
    archived: ArchivedMessages = NO_ARCHIVED_MESSAGES,
) -> Event:
    """The sender may recall within the window; a group owner or admin at any time, so a
    message older than the index's window is found in `archived` (what the caller read from
    the archive): the sender's own recall of it is RECALL_WINDOW_EXPIRED as before.

    Peer and group conversations only (room messages are ephemeral chatter: RECALL_NOT_PERMITTED).
    Checks in order: conversation, membership, MESSAGE_NOT_FOUND (unknown, or in another
    conversation), RECALL_NOT_PERMITTED, ALREADY_RECALLED, RECALL_WINDOW_EXPIRED.
    """
    conversation = Conversation.for_request(conversation_type, target_id, actor)
    if conversation.type is ConversationType.ROOM:
        raise Rejected(Reason.RECALL_NOT_PERMITTED, "room messages cannot be recalled")
    is_manager = False
    if conversation.type is ConversationType.GROUP:
        group = model.directory.require_group_member(conversation.target_id, actor)
        is_manager = group.is_manager(actor)
    record = find(model.messages, archived, message_id)
    if record is None or record.conversation_key != conversation.key:
        raise Rejected(Reason.MESSAGE_NOT_FOUND, f"no message {message_id!r} in this conversation")
    _check_permitted(record, actor, is_manager, limits, stamp.now_ms)
    return stamp.event(conversation, actor, MessageRecalled(message_id, record.sender))


def _check_permitted(
    record: MessageRecord, actor: str, is_manager: bool, limits: Limits, now_ms: int
) -> None:
    if not is_manager and record.sender != actor:
        raise Rejected(Reason.RECALL_NOT_PERMITTED, "only the sender or a group admin may recall")
    if record.recalled:
        raise Rejected(Reason.ALREADY_RECALLED, "the message was already recalled")
    # The window is inclusive: exactly recall_window_ms after sending is still in time.
    if not is_manager and now_ms - record.sent_at_ms > limits.recall_window_ms:
        raise Rejected(Reason.RECALL_WINDOW_EXPIRED, "the recall window has passed")
