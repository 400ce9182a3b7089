"""A conversation's read models as of a moment: its events up to a bound, folded with the
projector's own reducer (`projection.project`), into the history page and each member's unread
count, mentions and read position that the read models held then (had the projector no lag)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from parley.domain.audit_records import plain
from parley.domain.conversations import ConversationType
from parley.domain.events import Logged
from parley.domain.projection import project, projects
from parley.domain.projection_state import ConversationState, MessageRef, new_state
from parley.domain.projection_step import mention_seqs
from parley.domain.read_models import HistoryErased, HistoryRecalled, HistoryRow, MessageByIdRow
from parley.domain.unread import is_hidden, unread_count

HISTORY_PAGE = 20


@dataclass(frozen=True)
class HistoryEntry:
    """A row of messages_by_conversation: a recalled message's content is withheld (None)."""

    seq: int
    message_id: str
    sender_id: str
    sent_at_ms: int
    message_type: str
    content: Any
    recalled: bool
    recalled_by: str
    recalled_at_ms: int
    event_offset: int


@dataclass(frozen=True)
class MemberStanding:
    """A row of conversations_by_user with what the API derives from it."""

    user_id: str
    is_member: bool
    read_seq: int
    delivered_seq: int
    joined_seq: int
    until_seq: int  # -1 while a member; else the last seq a former member sees
    unread: int | None  # None in rooms: rooms have no unread counts
    mentions: tuple[int, ...]  # seqs of unread messages mentioning the user (or everyone)
    hidden: bool
    cleared_through_seq: int


@dataclass(frozen=True)
class ConversationMoment:
    key: str
    type: str
    events: int  # events of the conversation folded
    last_offset: int  # offset of the last event folded; -1: none yet
    last_seq: int
    dismissed: bool
    title: str
    history: tuple[HistoryEntry, ...]  # newest first, at most the page size
    members: tuple[MemberStanding, ...]


class AuditFold:
    """Folds one conversation's events in log order, as the projector does.

    The projector looks up messages older than a state's recent window in messages_by_id;
    here every message of the conversation is remembered from the fold's own rows instead, so
    the fold needs no storage and resolves exactly what those lookups would."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.events = 0
        self._state: ConversationState | None = None
        self._refs: dict[str, MessageRef] = {}
        self._history: dict[int, HistoryRow] = {}
        self._last_offset = -1

    def apply(self, logged: Logged) -> None:
        event = logged.event
        if event.conversation_key != self.key:
            return
        self.events += 1
        self._last_offset = logged.position.offset
        if not projects(event):
            return
        if self._state is None:
            self._state = new_state(self.key, event.conversation_type, logged.position.partition)
        for write in project(self._state, logged, self._refs).writes:
            self._remember(write)

    def _remember(self, write: object) -> None:
        if isinstance(write, HistoryRow):
            self._history[write.seq] = write
        elif isinstance(write, MessageByIdRow):
            self._refs[write.message_id] = MessageRef(
                write.seq, write.sender_id, write.receipt_requested
            )
        elif isinstance(write, HistoryRecalled) and write.seq in self._history:
            self._history[write.seq] = replace(
                self._history[write.seq],
                content=None,
                recalled=True,
                recalled_by=write.recalled_by,
                recalled_at_ms=write.recalled_at_ms,
                event_offset=write.event_offset,
            )
        elif isinstance(write, HistoryErased):
            self._history.clear()
            self._refs.clear()

    def moment(self, page: int = HISTORY_PAGE) -> ConversationMoment:
        state = self._state
        if state is None:
            return ConversationMoment(self.key, "-", self.events, self._last_offset, 0, False,
                                      "", (), ())  # fmt: skip
        newest = sorted(self._history, reverse=True)[:page]
        return ConversationMoment(
            key=self.key,
            type=state.type.name,
            events=self.events,
            last_offset=self._last_offset,
            last_seq=state.last_seq,
            dismissed=state.dismissed,
            title=state.head.title,
            history=tuple(_entry(self._history[seq]) for seq in newest),
            members=tuple(_standing(state, user) for user in sorted(state.members)),
        )


def _entry(row: HistoryRow) -> HistoryEntry:
    return HistoryEntry(
        row.seq, row.message_id, row.sender_id, row.sent_at_ms, row.message_type.name,
        None if row.content is None else plain(row.content), row.recalled, row.recalled_by,
        row.recalled_at_ms, row.event_offset,
    )  # fmt: skip


def _standing(state: ConversationState, user: str) -> MemberStanding:
    view = state.members[user]
    room = state.type is ConversationType.ROOM
    return MemberStanding(
        user_id=user,
        is_member=view.is_member,
        read_seq=view.read_seq,
        delivered_seq=view.delivered_seq,
        joined_seq=view.joined_seq,
        until_seq=view.until_seq,
        unread=None if room else unread_count(state.last_seq, view.read_seq, view.until_seq),
        mentions=tuple(sorted(mention_seqs(state, user))),
        hidden=is_hidden(state.last_seq, view.hidden_through_seq),
        cleared_through_seq=view.cleared_through_seq,
    )
