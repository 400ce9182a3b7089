"""Unread and hidden: derived from positions on every read, never counted (DESIGN decision 7)."""

from __future__ import annotations

MEMBER = -1  # until_seq of a current member


def visible_last(last_seq: int, until_seq: int) -> int:
    """The last seq a user may see: everything for members, up to leaving for former members."""
    return last_seq if until_seq == MEMBER else min(last_seq, until_seq)


def unread_count(last_seq: int, read_seq: int, until_seq: int = MEMBER) -> int:
    """Stored messages after the read position; own messages move it, so they never count."""
    return max(0, visible_last(last_seq, until_seq) - read_seq)


def is_hidden(last_seq: int, hidden_through_seq: int) -> bool:
    """A deleted conversation stays out of the list until a newer message arrives."""
    return last_seq <= hidden_through_seq


def first_visible_seq(cleared_through_seq: int) -> int:
    """A user's history view starts after what they deleted with delete_history."""
    return cleared_through_seq + 1


def counts_mention_all(
    seq: int, sender_id: str, user_id: str, read_seq: int, joined_seq: int, last_visible: int
) -> bool:
    """A mention-all counts for a user who joined before it, did not send it, has not read it."""
    return sender_id != user_id and max(read_seq, joined_seq) < seq <= last_visible
