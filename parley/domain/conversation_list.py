"""A user's conversation list, merged at query time from their rows and the conversation heads."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from parley.domain.errors import Reason, Rejected
from parley.domain.read_models import HeadRow, MentionAllRow, MentionRow, UserConversationRow
from parley.domain.unread import MEMBER, counts_mention_all, is_hidden, unread_count, visible_last


@dataclass(frozen=True)
class MentionView:
    seq: int
    message_id: str
    sender_id: str
    everyone: bool


@dataclass(frozen=True)
class ConversationView:
    row: UserConversationRow
    head: HeadRow
    unread: int
    mentions: tuple[MentionView, ...]

    @property
    def sort_key(self) -> tuple[int, str]:
        return (-self.head.last_activity_ms, self.row.conversation_key)


def unread_mentions(
    row: UserConversationRow,
    last_seq: int,
    mentions: Iterable[MentionRow],
    mention_all: Iterable[MentionAllRow],
) -> tuple[MentionView, ...]:
    """Mentions of the user, or of everyone, after the read position (one per message)."""
    last = visible_last(last_seq, row.until_seq)
    found = {
        m.seq: MentionView(m.seq, m.message_id, m.sender_id, False)
        for m in mentions
        if row.read_seq < m.seq <= last
    }
    for m in mention_all:
        if m.seq not in found and counts_mention_all(
            m.seq, m.sender_id, row.user_id, row.read_seq, row.joined_seq, last
        ):
            found[m.seq] = MentionView(m.seq, m.message_id, m.sender_id, True)
    return tuple(found[seq] for seq in sorted(found))


def view_of(
    row: UserConversationRow,
    head: HeadRow,
    mentions: Iterable[MentionRow] = (),
    mention_all: Iterable[MentionAllRow] = (),
) -> ConversationView:
    unread = unread_count(head.last_seq, row.read_seq, row.until_seq)
    return ConversationView(
        row, head, unread, unread_mentions(row, head.last_seq, mentions, mention_all)
    )


def is_listed(row: UserConversationRow, head: HeadRow) -> bool:
    return not is_hidden(head.last_seq, row.hidden_through_seq)


def encode_cursor(view: ConversationView) -> str:
    return f"{view.head.last_activity_ms}:{view.row.conversation_key}"


def decode_cursor(cursor: str) -> tuple[int, str] | None:
    if not cursor:
        return None
    activity, _, key = cursor.partition(":")
    if not activity.lstrip("-").isdigit() or not key:
        raise Rejected(Reason.BAD_PARAMETER, "cursor is not a next_cursor of this API")
    return (-int(activity), key)


def page(
    views: Sequence[ConversationView], cursor: str, size: int
) -> tuple[list[ConversationView], str]:
    """Most recent activity first (ties by key); the cursor is the last item of the page."""
    after = decode_cursor(cursor)
    ordered = sorted(views, key=lambda v: v.sort_key)
    if after is not None:
        ordered = [v for v in ordered if v.sort_key > after]
    chosen = ordered[:size]
    more = len(ordered) > size
    return chosen, encode_cursor(chosen[-1]) if more and chosen else ""


def is_member(row: UserConversationRow) -> bool:
    return row.until_seq == MEMBER
