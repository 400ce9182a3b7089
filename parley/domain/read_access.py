"""Who may read which part of a conversation's history, and page-size rules of the read API."""

from __future__ import annotations

from dataclasses import dataclass

from parley.domain.conversations import Conversation, ConversationType
from parley.domain.errors import Reason, Rejected
from parley.domain.read_models import HeadRow, UserConversationRow
from parley.domain.unread import MEMBER, first_visible_seq

DEFAULT_PAGE = 20
MAX_PAGE = 100
NO_END = 2**62  # a member's window is open-ended


@dataclass(frozen=True)
class SeqWindow:
    """The seqs a user may see: first..last, both inclusive."""

    first: int
    last: int

    def clamp_newest(self, cursor_seq: int) -> tuple[int, int]:
        """(lowest, highest) for a newest-first page below the cursor (0: from the end)."""
        top = self.last if cursor_seq <= 0 else min(self.last, cursor_seq - 1)
        return self.first, top

    def clamp_oldest(self, cursor_seq: int) -> tuple[int, int]:
        """(lowest, highest) for an oldest-first page above the cursor (0: from the start)."""
        return max(self.first, cursor_seq + 1), self.last


def page_size(requested: int) -> int:
    if requested < 0 or requested > MAX_PAGE:
        raise Rejected(Reason.BAD_PARAMETER, f"page_size must be 0..{MAX_PAGE}")
    return requested or DEFAULT_PAGE


def history_window(
    conversation: Conversation, row: UserConversationRow | None, head: HeadRow | None
) -> SeqWindow:
    """Peers: either participant; groups: members and former members (up to leaving), after
    what they deleted; rooms: anyone while the room exists (membership is not projected)."""
    if conversation.type is ConversationType.ROOM:
        if head is None or head.dismissed:
            raise Rejected(Reason.ROOM_NOT_FOUND, f"no room {conversation.target_id!r}")
        return SeqWindow(1, NO_END)
    if row is None:
        if conversation.type is ConversationType.PEER:
            return SeqWindow(1, NO_END)  # the caller is a participant by construction of the key
        raise Rejected(Reason.NOT_A_MEMBER, f"not a member of {conversation.target_id!r}")
    last = NO_END if row.until_seq == MEMBER else row.until_seq
    return SeqWindow(first_visible_seq(row.cleared_through_seq), last)
