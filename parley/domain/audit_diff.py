"""Two keyspaces' read models compared row by row, each difference named with the log offsets of
the events that wrote the row (every read-model row carries event_offset)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import total_ordering
from typing import Any

# Tables that differ between a live keyspace and a replay by design, and why.
SKIPPED_TABLES: Mapping[str, str] = {
    "fold_checkpoints": "checkpoints of the ingress and delivery folds, sealed by the checkpoint "
    "writer at wall-clock moments; neither the projector nor a replay writes them",
    "fold_checkpoint_chunks": "the payloads of fold_checkpoints",
    "schema_migrations": "when each migration was applied (wall clock); not a read model",
}
# Columns that differ by design within compared tables, and why.
IGNORED_COLUMNS: Mapping[str, Mapping[str, str]] = {
    "projection_positions": {"updated_at": "the wall-clock time of the projector's write"},
}
# The column naming the log offset that wrote a row, first present wins.
OFFSET_COLUMNS = ("event_offset", "applied_offset")

Row = Mapping[str, Any]


@total_ordering
class Descending:
    """A clustering value of a DESC column: sorts in reverse, as Cassandra returns it."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Descending) and self.value == other.value

    def __lt__(self, other: Descending) -> bool:
        return bool(other.value < self.value)

    def __hash__(self) -> int:
        return hash(self.value)


@dataclass(frozen=True)
class TableShape:
    name: str
    key_columns: tuple[str, ...]  # partition key then clustering columns
    columns: tuple[str, ...]  # every column, keys included

    @property
    def compared(self) -> tuple[str, ...]:
        ignored = IGNORED_COLUMNS.get(self.name, {})
        return tuple(c for c in self.columns if c not in self.key_columns and c not in ignored)

    @property
    def offset_column(self) -> str | None:
        return next((c for c in OFFSET_COLUMNS if c in self.columns), None)


@dataclass(frozen=True)
class RowDifference:
    table: str
    key: tuple[tuple[str, Any], ...]
    kind: str  # changed, only_in_a, only_in_b
    columns: tuple[str, ...]  # the columns that differ (changed rows)
    a: Row | None
    b: Row | None
    a_offset: int | None  # the offset of the event that wrote the row in A
    b_offset: int | None
    stream: str  # the log stream (a Kafka key) those offsets are in; "" when the row names none


def stream_of(table: str, row: Row) -> str:
    """The key whose partition holds the offsets of a row: its conversation, or an upload's
    uploader stream "u:<id>" (media_by_object)."""
    if row.get("conversation_key"):
        return str(row["conversation_key"])
    if table == "media_by_object" and row.get("owner_id"):
        return f"u:{row['owner_id']}"
    return ""


def compare(
    shape: TableShape, a: Iterable[tuple[Any, Row]], b: Iterable[tuple[Any, Row]]
) -> Iterator[RowDifference]:
    """Merges two scans of one table, each (sort key, row) in the same order (Cassandra's
    token order, then clustering order), and yields every row that differs."""
    a_rows, b_rows = iter(a), iter(b)
    a_cur, b_cur = next(a_rows, None), next(b_rows, None)
    while a_cur is not None or b_cur is not None:
        if b_cur is None or (a_cur is not None and a_cur[0] < b_cur[0]):
            assert a_cur is not None
            yield _difference(shape, "only_in_a", (), a_cur[1], None)
            a_cur = next(a_rows, None)
        elif a_cur is None or b_cur[0] < a_cur[0]:
            yield _difference(shape, "only_in_b", (), None, b_cur[1])
            b_cur = next(b_rows, None)
        else:
            changed = tuple(c for c in shape.compared if a_cur[1].get(c) != b_cur[1].get(c))
            if changed:
                yield _difference(shape, "changed", changed, a_cur[1], b_cur[1])
            a_cur, b_cur = next(a_rows, None), next(b_rows, None)


def _difference(
    shape: TableShape, kind: str, columns: tuple[str, ...], a: Row | None, b: Row | None
) -> RowDifference:
    either = a if a is not None else b
    assert either is not None
    offset = shape.offset_column

    def offset_in(row: Row | None) -> int | None:
        return None if row is None or offset is None else row.get(offset)

    return RowDifference(
        shape.name,
        tuple((c, either.get(c)) for c in shape.key_columns),
        kind,
        columns,
        a,
        b,
        offset_in(a),
        offset_in(b),
        stream_of(shape.name, either),
    )
