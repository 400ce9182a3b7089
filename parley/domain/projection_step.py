"""One reducer step: the state, the event and what it writes, with the shared write helpers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from parley.domain.events import Event
from parley.domain.projection_state import ConversationState, MessageRef
from parley.domain.read_models import (
    ConversationChanged,
    HeadRow,
    MentionDeleted,
    Notice,
    RowWrite,
    UserConversationRow,
)
from parley.domain.receipts import peer_read_notice, readers_passed
from parley.domain.unread import counts_mention_all, is_hidden, unread_count, visible_last


@dataclass
class Projected:
    """What one event changed: rows to upsert or delete, notices to users."""

    writes: list[RowWrite] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    # Users whose view of the conversation changed, with the offset of the latest such event;
    # their ConversationChanged notice is built once per batch from the final state.
    changed: dict[str, int] = field(default_factory=dict)


@dataclass
class Step:
    state: ConversationState
    event: Event
    offset: int
    refs: Mapping[str, MessageRef]
    out: Projected

    def ref(self, message_id: str) -> MessageRef | None:
        return self.state.recent.get(message_id) or self.refs.get(message_id)

    def write_user(self, user: str, notify: bool = True) -> None:
        view = self.state.members[user]
        s = self.state
        self.out.writes.append(
            UserConversationRow(
                user,
                s.key,
                s.type,
                view.read_seq,
                view.delivered_seq,
                view.joined_seq,
                view.until_seq,
                view.hidden_through_seq,
                view.cleared_through_seq,
                self.offset,
            )
        )
        if notify:
            self.out.changed[user] = self.offset

    def write_head(self) -> None:
        s, h = self.state, self.state.head
        self.out.writes.append(
            HeadRow(
                s.key,
                s.type,
                s.last_seq,
                h.message_id,
                h.sender_id,
                h.message_type,
                h.preview,
                h.recalled,
                h.activity_ms,
                s.dismissed,
                self.offset,
                h.title,
            )
        )

    def notify_members(self) -> None:
        for user, view in self.state.members.items():
            if view.is_member:
                self.out.changed[user] = self.offset

    def move_read(self, user: str, to_seq: int, own_seq: int = 0) -> bool:
        """Moves a member's read position forward; deletes passed mentions, writes receipts."""
        s, view = self.state, self.state.members[user]
        old = view.read_seq
        if to_seq <= old:
            return False
        view.read_seq = to_seq
        pending = s.mentions.get(user, [])
        self.out.writes += [MentionDeleted(user, s.key, q) for q in pending if q <= to_seq]
        s.mentions[user] = [q for q in pending if q > to_seq]
        rows, notices = readers_passed(s, user, old, to_seq, self.event.server_time_ms, self.offset)
        self.out.writes += rows
        self.out.notices += notices
        peer_upper = own_seq - 1 if own_seq else to_seq
        self.out.notices += peer_read_notice(s, user, old, peer_upper, self.offset)
        return True


def conversation_notice(state: ConversationState, user: str, offset: int) -> ConversationChanged:
    view, head = state.members[user], state.head
    return ConversationChanged(
        user,
        state.key,
        state.type,
        state.last_seq,
        view.read_seq,
        unread_count(state.last_seq, view.read_seq, view.until_seq),
        mention_count(state, user),
        head.message_id,
        head.sender_id,
        head.preview,
        head.activity_ms,
        is_hidden(state.last_seq, view.hidden_through_seq),
        offset,
    )


def mention_count(state: ConversationState, user: str) -> int:
    """Unread messages that mention the user or everyone (a message counts once)."""
    return len(mention_seqs(state, user))


def mention_seqs(state: ConversationState, user: str) -> set[int]:
    """The seqs of the unread messages that mention the user or everyone."""
    view = state.members[user]
    last = visible_last(state.last_seq, view.until_seq)
    seqs = {q for q in state.mentions.get(user, ()) if view.read_seq < q <= last}
    seqs |= {
        q
        for q, sender in state.mention_all
        if counts_mention_all(q, sender, user, view.read_seq, view.joined_seq, last)
    }
    return seqs
