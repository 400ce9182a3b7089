"""Broadcasts: server messages pushed to every online user, never stored."""

from __future__ import annotations

from parley.domain.commands import Stamp
from parley.domain.content import check_content
from parley.domain.conversations import Conversation, ConversationType, check_id, user_key
from parley.domain.errors import Reason, Rejected
from parley.domain.events import BarrageContent, BroadcastSent, Content, Event
from parley.domain.limits import Limits
from parley.domain.message_ids import check_client_message_id, message_id_for


def decide_broadcast(
    actor: str,
    client_message_id: str,
    content: Content,
    stamp: Stamp,
    limits: Limits | None = None,
) -> Event:
    """A broadcast from `actor` (e.g. "system"). Its id derives from the client message id like
    a send's, so a retried broadcast carries the same event id and delivery drops the copy.
    Barrage is a room type and is not allowed."""
    limits = limits or Limits()
    check_id(actor, "sender id")
    check_client_message_id(client_message_id, limits.client_message_id_max)
    if isinstance(content, BarrageContent):
        raise Rejected(Reason.TYPE_NOT_ALLOWED, "barrage messages are for rooms only")
    check_content(content, limits)
    message_id = message_id_for(actor, client_message_id)
    # Keyed by the sender's own stream: one broadcaster's messages arrive in order.
    conversation = Conversation(ConversationType.PEER, user_key(actor))
    return stamp.event(
        conversation,
        actor,
        BroadcastSent(message_id, content),
        event_id=message_id,
        client_message_id=client_message_id,
    )
