"""Folding a list of logged events into per-conversation states and coalesced writes (pure)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from parley.domain.events import Logged
from parley.domain.projection import project, projects
from parley.domain.projection_media import MediaRows
from parley.domain.projection_state import ConversationState, MessageRef, new_state
from parley.domain.projection_step import conversation_notice
from parley.domain.read_models import (
    HistoryErased,
    HistoryRecalled,
    HistoryRow,
    MediaAttachmentRecalled,
    MediaAttachmentRow,
    MessageByIdRecalled,
    MessageByIdRow,
    Notice,
    RowWrite,
)


@dataclass
class Batch:
    """Coalesced output of a batch: the last write per row key, in first-write order.

    A later write of a row carries the full value the one-at-a-time fold would leave, so keeping
    only the last one makes the batch boundary invisible in the stored rows."""

    writes: dict[tuple[object, ...], RowWrite] = field(default_factory=dict)
    notices: dict[tuple[object, ...], Notice] = field(default_factory=dict)
    touched: dict[str, ConversationState] = field(default_factory=dict)

    def add_writes(self, writes: Iterable[RowWrite]) -> None:
        for write in writes:
            if isinstance(write, HistoryErased):
                self._drop_history(write.conversation_key)
            merged = _merge(self.writes.pop(write.key, None), write)
            self.writes[write.key] = merged  # re-inserted: later writes go after earlier ones

    def _drop_history(self, conversation_key: str) -> None:
        """Rows an erase deletes anyway are not written in the same batch (no write races)."""
        doomed = [key for key in self.writes if key[0] == "history" and key[1] == conversation_key]
        for key in doomed:
            del self.writes[key]

    def add_notices(self, notices: Iterable[Notice]) -> None:
        for notice in notices:
            self.notices.pop(notice.key, None)
            self.notices[notice.key] = notice


def _merge(earlier: RowWrite | None, later: RowWrite) -> RowWrite:
    """A recall of a message stored in the same batch folds into its full row."""
    if isinstance(later, MediaAttachmentRecalled) and isinstance(earlier, MediaAttachmentRow):
        return later.applied_to(earlier)
    if isinstance(later, MediaAttachmentRow) and isinstance(earlier, MediaAttachmentRecalled):
        return earlier.applied_to(later)  # the row's write leaves a recall standing
    if isinstance(earlier, MessageByIdRow) and isinstance(later, MessageByIdRecalled):
        return later.applied_to(earlier)
    if isinstance(earlier, HistoryRow) and isinstance(later, HistoryRecalled):
        return later.applied_to(earlier)
    return later


def fold(
    states: dict[str, ConversationState],
    events: Iterable[Logged],
    refs: Mapping[str, MessageRef] | None = None,
    carried: Mapping[str, tuple[str, ...]] | None = None,
) -> Batch:
    """Applies events in order, creating states for conversations first seen; events that
    change no read model (`projects`) touch no state. `carried`: the objects of earlier media
    messages that the batch recalls (see MediaRows)."""
    batch = Batch()
    media = MediaRows(carried or {})
    changed: dict[tuple[str, str], int] = {}
    for logged in events:
        if not projects(logged.event):
            batch.add_writes(media.of_upload(logged))
            continue
        key = logged.event.conversation_key
        state = states.get(key)
        if state is None:
            state = states[key] = new_state(key, logged.event.conversation_type)
        projected = project(state, logged, refs or {})
        batch.add_writes(projected.writes)
        batch.add_writes(media.of_message(logged, projected.writes))
        batch.add_notices(projected.notices)
        batch.touched[key] = state
        for user, offset in projected.changed.items():
            changed[(key, user)] = offset
    batch.add_notices(
        conversation_notice(states[key], user, offset) for (key, user), offset in changed.items()
    )
    return batch
