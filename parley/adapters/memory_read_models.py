"""In-memory read models: row writes applied to dicts, for tests of reducers and queries."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, replace
from typing import Any

from parley.domain.read_models import (
    HistoryErased,
    HistoryRecalled,
    HistoryRow,
    MediaAttachmentRecalled,
    MediaAttachmentRow,
    MentionAllDeleted,
    MentionDeleted,
    MessageByIdRecalled,
    MessageByIdRow,
    RowWrite,
)


class InMemoryReadModels:
    """Tables as {row key: row value}; applies writes with Cassandra's upsert semantics."""

    def __init__(self) -> None:
        self.rows: dict[tuple[Any, ...], RowWrite] = {}
        self.states: dict[str, str] = {}  # conversation key -> state JSON

    def apply(self, writes: Iterable[RowWrite]) -> None:
        for write in writes:
            if isinstance(write, HistoryErased):
                for key in [
                    k for k in self.rows if k[0] == "history" and k[1] == write.conversation_key
                ]:
                    del self.rows[key]
            elif isinstance(write, (MentionDeleted, MentionAllDeleted)):
                self.rows.pop(write.key, None)
            elif isinstance(write, HistoryRecalled):
                row = self.rows.get(write.key)
                if isinstance(row, HistoryRow):  # an UPDATE of an absent row: ignored here
                    self.rows[write.key] = replace(
                        row,
                        content=None,
                        recalled=True,
                        recalled_by=write.recalled_by,
                        recalled_at_ms=write.recalled_at_ms,
                        event_offset=write.event_offset,
                    )
            elif isinstance(write, (MediaAttachmentRow, MediaAttachmentRecalled)):
                self._attach(write)
            elif isinstance(write, MessageByIdRecalled):
                by_id = self.rows.get(write.key)
                if isinstance(by_id, MessageByIdRow):  # an UPDATE of an absent row: ignored
                    self.rows[write.key] = replace(
                        by_id, recalled=True, event_offset=write.event_offset
                    )
            else:
                self.rows[write.key] = write

    def _attach(self, write: MediaAttachmentRow | MediaAttachmentRecalled) -> None:
        """A recall is set, never unset: a message's row leaves the recalled column alone."""
        row = self.rows.get(write.key)
        if isinstance(write, MediaAttachmentRow):
            if isinstance(row, MediaAttachmentRow) and row.recalled:
                offset = max(write.recall_offset, row.recall_offset)
                write = replace(write, recalled=True, recall_offset=offset)
            self.rows[write.key] = write
        elif isinstance(row, MediaAttachmentRow):  # an UPDATE of an absent row: ignored here
            self.rows[write.key] = replace(row, recalled=True, recall_offset=write.event_offset)

    def table(self, kind: str) -> dict[tuple[Any, ...], dict[str, Any]]:
        """Rows of one table as plain dicts, keyed by their row key."""
        return {k: asdict(v) for k, v in sorted(self.rows.items()) if k[0] == kind}

    def snapshot(self) -> dict[tuple[Any, ...], dict[str, Any]]:
        return {k: asdict(v) for k, v in sorted(self.rows.items(), key=lambda kv: repr(kv[0]))}
