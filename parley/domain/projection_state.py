"""The projection's state of one conversation, and its canonical JSON form."""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from parley.domain.conversations import Conversation, ConversationType
from parley.domain.unread import MEMBER

# Message ids remembered per conversation to drop a duplicate append (two ingress processes
# racing with the same send, milliseconds apart): those sent in the last RECENT_WINDOW_MS before
# the newest, at most RECENT_MESSAGES. A time window keeps memory in step with the message rate,
# not with the length of the log; both bounds are rules of the fold, so live and replay agree.
RECENT_WINDOW_MS = 10 * 60 * 1000
RECENT_MESSAGES = 2048
MENTION_ALL_KEPT = 100  # newest mention-all seqs counted per conversation
RECEIPTS_TRACKED = 200  # newest receipt-requested group messages whose readers are tracked


@dataclass(frozen=True)
class MessageRef:
    """What the projection needs to know about an earlier message."""

    seq: int
    sender_id: str
    receipt_requested: bool = False
    sent_at_ms: int = 0  # the message's server time, ms since the epoch


@dataclass
class MemberView:
    """One user's positions in a conversation (a row of conversations_by_user)."""

    read_seq: int = 0
    delivered_seq: int = 0
    joined_seq: int = 0
    until_seq: int = MEMBER
    hidden_through_seq: int = -1  # -1: never hidden; else hidden until last_seq exceeds it
    cleared_through_seq: int = 0

    @property
    def is_member(self) -> bool:
        return self.until_seq == MEMBER


@dataclass
class Head:
    """Summary of the last stored message."""

    message_id: str = ""
    sender_id: str = ""
    message_type: int = 0
    preview: str = ""
    recalled: bool = False
    activity_ms: int = 0  # ms since the epoch: the last message's server time
    title: str = ""  # a group's or room's name from its creation; "" for peers


@dataclass
class TrackedReceipt:
    """A receipt-requested group message and who has read it (first read kept)."""

    message_id: str
    sender_id: str
    readers: dict[str, int] = field(default_factory=dict)  # reader -> read at, ms since epoch


@dataclass
class ConversationState:
    key: str
    type: ConversationType
    partition: int = -1
    applied_offset: int = -1  # offset of the last event folded in: the position guard
    last_seq: int = 0
    dismissed: bool = False
    head: Head = field(default_factory=Head)
    members: dict[str, MemberView] = field(default_factory=dict)
    recent: OrderedDict[str, MessageRef] = field(default_factory=OrderedDict)
    mentions: dict[str, list[int]] = field(default_factory=dict)  # user -> unread mention seqs
    mention_all: list[tuple[int, str]] = field(default_factory=list)  # (seq, sender), ascending
    receipts: OrderedDict[int, TrackedReceipt] = field(default_factory=OrderedDict)

    def remember(self, message_id: str, ref: MessageRef) -> None:
        self.recent[message_id] = ref
        horizon = ref.sent_at_ms - RECENT_WINDOW_MS
        while self.recent and (
            len(self.recent) > RECENT_MESSAGES
            or next(iter(self.recent.values())).sent_at_ms < horizon
        ):
            self.recent.popitem(last=False)


def new_state(key: str, type_: ConversationType, partition: int = -1) -> ConversationState:
    """A conversation never seen before; peers start with both participants."""
    state = ConversationState(key, type_, partition)
    if type_ is ConversationType.PEER:
        for user in Conversation(type_, key).participants:
            state.members[user] = MemberView()
    return state


def to_json(state: ConversationState) -> str:
    """Canonical JSON: sorted keys, no whitespace, so equal states have equal bytes.

    `recent` is left out: it is a window of the newest stored messages, which the history
    rows at or below `last_seq` already hold (rows are stored before their state), so a loader
    rebuilds it with `recent_from_history`. Writing it with every state made the state row grow
    to tens of KB, rewritten for every batch that touches the conversation."""
    document: dict[str, Any] = {
        "key": state.key,
        "type": int(state.type),
        "partition": state.partition,
        "applied_offset": state.applied_offset,
        "last_seq": state.last_seq,
        "dismissed": state.dismissed,
        # vars() of these flat dataclasses is their fields; asdict() would deep-copy (slow).
        "head": vars(state.head),
        "members": {user: vars(view) for user, view in state.members.items()},
        "mentions": {user: seqs for user, seqs in state.mentions.items() if seqs},
        "mention_all": [list(item) for item in state.mention_all],
        "receipts": [
            [seq, r.message_id, r.sender_id, r.readers] for seq, r in state.receipts.items()
        ],
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":"))


def recent_from_history(
    state: ConversationState, rows: Iterable[tuple[int, str, str, bool, int]]
) -> None:
    """Fills `recent` from history rows (seq, message id, sender, receipt requested, sent at),
    newest first, as stored up to the state's last_seq; rows above it (a batch stored only in
    part before a crash) are not part of this state and are skipped. The newest RECENT_MESSAGES
    rows are remembered again in log order, so the window is the one the live fold kept."""
    refs = [row for row in rows if row[0] <= state.last_seq][:RECENT_MESSAGES]
    group = state.type is ConversationType.GROUP
    state.recent.clear()
    for seq, message_id, sender, receipt, sent_at_ms in reversed(refs):
        state.remember(message_id, MessageRef(seq, sender, receipt and group, sent_at_ms))


def from_json(text: str) -> ConversationState:
    """The state without `recent` (see `to_json`); a "recent" of older rows is ignored."""
    d = json.loads(text)
    state = ConversationState(
        key=d["key"],
        type=ConversationType(d["type"]),
        partition=d["partition"],
        applied_offset=d["applied_offset"],
        last_seq=d["last_seq"],
        dismissed=d["dismissed"],
        head=Head(**d["head"]),
        members={user: MemberView(**view) for user, view in d["members"].items()},
        mentions={user: list(seqs) for user, seqs in d["mentions"].items()},
        mention_all=[(seq, sender) for seq, sender in d["mention_all"]],
    )
    for seq, mid, sender, readers in d["receipts"]:
        state.receipts[seq] = TrackedReceipt(mid, sender, dict(readers))
    return state
