"""Contacts: blocking and unblocking users (the blacklist), on the blocker's own stream."""

from __future__ import annotations

from parley.domain.commands import Stamp
from parley.domain.conversations import Conversation, ConversationType, check_id, user_key
from parley.domain.errors import Reason, Rejected
from parley.domain.events import Event, UserBlocked, UserUnblocked
from parley.domain.write_model import WriteModel


def _blacklist_of(actor: str, user_id: str) -> Conversation:
    check_id(user_id, "user id")
    if user_id == actor:
        raise Rejected(Reason.BAD_PARAMETER, "a user cannot block themselves")
    # Keyed by the blocker, so all of one user's blacklist changes stay in order.
    return Conversation(ConversationType.PEER, user_key(actor))


def decide_block(actor: str, user_id: str, model: WriteModel, stamp: Stamp) -> Event:
    """Blocking twice is accepted and changes nothing (the fold is a set)."""
    del model  # same signature as every decider; blocking needs no state
    return stamp.event(_blacklist_of(actor, user_id), actor, UserBlocked(user_id))


def decide_unblock(actor: str, user_id: str, model: WriteModel, stamp: Stamp) -> Event:
    del model
    return stamp.event(_blacklist_of(actor, user_id), actor, UserUnblocked(user_id))
