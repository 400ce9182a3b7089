"""Row-by-row comparison of two scans of a table, named by the offsets that wrote each row."""

from __future__ import annotations

from typing import Any

from parley.domain.audit_diff import Descending, TableShape, compare

HISTORY = TableShape(
    "messages_by_conversation",
    ("conversation_key", "seq"),
    ("conversation_key", "seq", "body", "recalled", "event_offset"),
)


def scan(*rows: dict[str, Any]) -> list[tuple[Any, dict[str, Any]]]:
    """Rows in Cassandra's order: by partition, then seq descending."""
    keyed = [((r["conversation_key"], Descending(r["seq"])), r) for r in rows]
    return sorted(keyed, key=lambda kv: kv[0])


def row(key: str, seq: int, body: str, offset: int) -> dict[str, Any]:
    return {"conversation_key": key, "seq": seq, "body": body, "recalled": False,
            "event_offset": offset}  # fmt: skip


def test_compare__equal_scans_have_no_difference() -> None:
    rows = [row("g:a", 1, "x", 3), row("g:a", 2, "y", 5), row("p:b:c", 1, "z", 4)]

    assert list(compare(HISTORY, scan(*rows), scan(*rows))) == []


def test_compare__names_a_changed_row_with_both_offsets() -> None:
    a = [row("g:a", 1, "x", 3), row("g:a", 2, "y", 5)]
    b = [row("g:a", 1, "x", 3), row("g:a", 2, "tampered", 9)]

    (diff,) = compare(HISTORY, scan(*a), scan(*b))

    assert (diff.kind, diff.key, diff.columns) == (
        "changed", (("conversation_key", "g:a"), ("seq", 2)), ("body", "event_offset"),
    )  # fmt: skip
    assert (diff.a_offset, diff.b_offset, diff.stream) == (5, 9, "g:a")


def test_compare__rows_on_one_side_only() -> None:
    a = [row("g:a", 1, "x", 3), row("g:a", 3, "w", 8)]
    b = [row("g:a", 1, "x", 3), row("g:a", 2, "y", 5), row("g:b", 1, "v", 2)]

    diffs = [(d.kind, dict(d.key)["seq"], d.a_offset, d.b_offset)
             for d in compare(HISTORY, scan(*a), scan(*b))]  # fmt: skip

    assert diffs == [("only_in_a", 3, 8, None), ("only_in_b", 2, None, 5),
                     ("only_in_b", 1, None, 2)]  # fmt: skip


def test_table_shape__positions_ignore_the_wall_clock_column() -> None:
    shape = TableShape(
        "projection_positions",
        ("projector", "topic", "partition"),
        ("projector", "topic", "partition", "applied_offset", "updated_at"),
    )

    assert shape.compared == ("applied_offset",) and shape.offset_column == "applied_offset"
