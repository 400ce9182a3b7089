"""What delivery folds from the conversation log: membership, seqs, and who takes part where."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable
from typing import Any

from parley.domain.conversations import Conversation, ConversationType
from parley.domain.directory import Directory
from parley.domain.events import (
    GROUP_EVENTS,
    ROOM_EVENTS,
    Event,
    GroupCreated,
    GroupDismissed,
    GroupMembersAdded,
    GroupMembersRemoved,
    Logged,
    MessageRecalled,
    MessageSent,
    RoomCreated,
    RoomDismissed,
    RoomEntered,
    RoomLeft,
)
from parley.domain.fold_windows import DEFAULT_WINDOWS, FoldWindows
from parley.domain.message_index import MessageIndex
from parley.domain.projection import project
from parley.domain.projection_state import (
    ConversationState,
    MessageRef,
    from_json,
    new_state,
    to_json,
)
from parley.domain.projection_step import Projected
from parley.domain.send_ledger import SendLedger
from parley.domain.write_model import WriteModel

_MEMBERSHIP = (
    GroupCreated, GroupMembersAdded, GroupMembersRemoved, GroupDismissed,
    RoomCreated, RoomEntered, RoomLeft, RoomDismissed,
)  # fmt: skip
# Membership changes (and the other group and room changes) reach the members as tips.
TIPS = GROUP_EVENTS + ROOM_EVENTS


DELIVERY_FOLD = "delivery"  # the checkpoints' name of this fold


class DeliveryFold:
    """The directory (group and room members), the projection reducer's per-conversation states
    (so a pushed message carries the same seq the read models give it, and a duplicate append
    gets none) and an index of each user's conversations.

    The same pure functions as the ingress and the projector, folded from offset 0: every
    delivery node agrees with them without asking anyone.
    """

    def __init__(self, windows: FoldWindows = DEFAULT_WINDOWS) -> None:
        self.directory = Directory()
        # Acks are decided against the same write model the ingress uses (sends not tracked).
        messages = MessageIndex(windows.messages_ms, windows.max_messages)
        self.model = WriteModel(self.directory, messages, SendLedger())
        self._states: dict[str, ConversationState] = {}
        self._of_user: dict[str, set[str]] = {}  # user -> peer, group and room keys

    def apply(self, logged: Logged) -> tuple[Projected, frozenset[str]]:
        """Folds one event; returns what the reducer made of it and, for membership events,
        who was a member before (so the removed hear about their removal)."""
        event = logged.event
        before = (
            self.members_of(event.conversation_key)
            if isinstance(event.payload, _MEMBERSHIP)
            else frozenset()
        )
        self.directory.apply(event)
        self.model.messages.apply(event)
        key = event.conversation_key
        conversation = Conversation.from_key(key)
        if conversation is None:
            return Projected(), before
        state = self._states.get(key)
        if state is None:
            state = self._states[key] = new_state(key, event.conversation_type)
            for user in conversation.participants:
                self._of_user.setdefault(user, set()).add(key)
        projected = project(state, logged)
        # Delivery pushes the reducer's seqs and nothing of its read-model bookkeeping: unread
        # mentions and tracked receipts grow with the messages nobody has read yet, and only the
        # projector's rows and notices need them (its own state keeps them).
        state.mentions.clear()
        state.mention_all.clear()
        state.receipts.clear()
        if isinstance(event.payload, _MEMBERSHIP):
            self._index_members(key, before, self.members_of(key))
        return projected, before

    def to_document(self) -> dict[str, Any]:
        """The whole fold as plain JSON values: what a checkpoint of it holds."""
        return {
            "directory": self.directory.to_document(),
            "messages": self.model.messages.to_document(),
            "states": [
                [json.loads(to_json(s)),
                 [[mid, r.seq, r.sender_id, r.receipt_requested, r.sent_at_ms]
                  for mid, r in s.recent.items()]]
                for s in (self._states[key] for key in sorted(self._states))
            ],
            "of_user": [[user, sorted(self._of_user[user])] for user in sorted(self._of_user)],
        }  # fmt: skip

    @classmethod
    def from_document(
        cls, document: dict[str, Any], windows: FoldWindows = DEFAULT_WINDOWS
    ) -> DeliveryFold:
        fold = cls(windows)
        fold.directory.restore(document["directory"])
        fold.model.messages.restore(document["messages"])
        for state_document, recent in document["states"]:
            state = from_json(json.dumps(state_document))
            for mid, seq, sender, receipt, sent_at_ms in recent:
                state.recent[mid] = MessageRef(seq, sender, receipt, sent_at_ms)
            fold._states[state.key] = state
        fold._of_user = {user: set(keys) for user, keys in document["of_user"]}
        return fold

    def _index_members(self, key: str, before: Iterable[str], after: frozenset[str]) -> None:
        for user in before:
            if user not in after:
                keys = self._of_user.get(user)
                if keys is not None:
                    keys.discard(key)
        for user in after:
            self._of_user.setdefault(user, set()).add(key)

    def members_of(self, key: str) -> frozenset[str]:
        """Who receives the conversation's events now."""
        conversation = Conversation.from_key(key)
        if conversation is None:
            return frozenset()
        if conversation.type is ConversationType.PEER:
            return frozenset(conversation.participants)
        return frozenset(self.member_set(key))

    def member_set(self, key: str) -> set[str] | frozenset[str]:
        """members_of without a copy, for fan-out on the loop thread (do not keep it)."""
        conversation = Conversation.from_key(key)
        if conversation is None:
            return frozenset()
        if conversation.type is ConversationType.GROUP:
            group = self.directory.group(conversation.target_id)
            return group.member_ids if group and not group.dismissed else frozenset()
        if conversation.type is ConversationType.ROOM:
            room = self.directory.room(conversation.target_id)
            return room.members if room and not room.dismissed else frozenset()
        return frozenset(conversation.participants)

    def recipients_of(self, event: Event, before: frozenset[str] = frozenset()) -> Collection[str]:
        """Who is pushed the event live: a message (stored, command or barrage) and a recall go
        to the conversation's members now; a tip also goes to the members it removed (`before`,
        from apply), so they hear of their removal and of nothing after it. Nothing else is
        pushed. A message's or recall's set is the fold's own: fan out from it on the loop
        thread, never keep it."""
        if isinstance(event.payload, MessageSent | MessageRecalled):
            return self.member_set(event.conversation_key)
        if isinstance(event.payload, TIPS):
            return self.members_of(event.conversation_key) | before
        return frozenset()

    def can_see(self, user_id: str, key: str) -> bool:
        return user_id in self.member_set(key)

    def last_seq(self, key: str) -> int:
        state = self._states.get(key)
        return state.last_seq if state is not None else 0

    def seq_of(self, key: str, message_id: str) -> int:
        state = self._states.get(key)
        ref = state.recent.get(message_id) if state is not None else None
        return ref.seq if ref is not None else 0

    def conversations_of(self, user_id: str) -> dict[str, int]:
        """The user's peer, group and room conversations with their current last seq."""
        return {key: self.last_seq(key) for key in self._of_user.get(user_id, ())}

    def peers_of(self, user_id: str) -> list[str]:
        """Users the user shares a peer conversation with (their contacts, for presence)."""
        keys = self._of_user.get(user_id, ())
        return [user for key in keys for user in _participants(key) if user != user_id]


def _participants(key: str) -> tuple[str, ...]:
    conversation = Conversation.from_key(key)
    return conversation.participants if conversation is not None else ()
