"""Receipts: who has read (or received) which message, as a read position moves past it."""

from __future__ import annotations

from parley.domain.conversations import ConversationType
from parley.domain.projection_state import ConversationState, MessageRef
from parley.domain.read_models import ReaderRow, ReceiptChanged, RowWrite


def peer_of(state: ConversationState, user_id: str) -> str:
    return next((other for other in state.members if other != user_id), "")


def record_reader(
    state: ConversationState, seq: int, reader: str, at_ms: int, offset: int
) -> tuple[list[RowWrite], list[ReceiptChanged]]:
    """A member read a tracked group message: written once, so the first read time stays."""
    tracked = state.receipts.get(seq)
    if tracked is None or reader == tracked.sender_id or reader in tracked.readers:
        return [], []
    tracked.readers[reader] = at_ms
    row = ReaderRow(state.key, seq, reader, at_ms, offset)
    notice = ReceiptChanged(
        tracked.sender_id,
        state.key,
        seq,
        tracked.message_id,
        reader,
        True,
        len(tracked.readers),
        offset,
    )
    return [row], [notice]


def readers_passed(
    state: ConversationState, reader: str, old_seq: int, new_seq: int, at_ms: int, offset: int
) -> tuple[list[RowWrite], list[ReceiptChanged]]:
    """Receipts for every tracked group message the reader's position moved past."""
    writes: list[RowWrite] = []
    notices: list[ReceiptChanged] = []
    for seq in [s for s in state.receipts if old_seq < s <= new_seq]:
        rows, sent = record_reader(state, seq, reader, at_ms, offset)
        writes += rows
        notices += sent
    return writes, notices


def peer_read_notice(
    state: ConversationState, reader: str, old_seq: int, peer_upper: int, offset: int
) -> list[ReceiptChanged]:
    """Peer receipt "read up to here" for the other participant, when any of their messages was
    passed. In a peer conversation every message after the reader's position is the other's,
    because sending moves the sender's own position to their message."""
    if state.type is not ConversationType.PEER or peer_upper <= old_seq:
        return []
    return [
        ReceiptChanged(peer_of(state, reader), state.key, peer_upper, "", reader, True, 1, offset)
    ]


def peer_delivered(
    state: ConversationState, receiver: str, message_id: str, ref: MessageRef, offset: int
) -> list[ReceiptChanged]:
    """A peer's device received messages up to `ref`; their position never moves back."""
    view = state.members.get(receiver)
    if view is None or ref.seq <= view.delivered_seq or ref.sender_id == receiver:
        return []
    view.delivered_seq = ref.seq
    return [
        ReceiptChanged(ref.sender_id, state.key, ref.seq, message_id, receiver, False, 0, offset)
    ]
