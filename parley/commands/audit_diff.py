"""`parley audit diff KEYSPACE_A KEYSPACE_B`: every read-model table compared row by row, each
differing row named with the offsets of the events that wrote it (exit 1 when any differs)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from typing import Any

import click

from parley.adapters.cassandra import connect_configured
from parley.adapters.cassandra_audit import KeyspaceMissing, scan, table_shapes
from parley.adapters.kafka import partition_for
from parley.adapters.kafka_feed import log_ends
from parley.config import Settings
from parley.domain.audit_diff import (
    IGNORED_COLUMNS,
    SKIPPED_TABLES,
    RowDifference,
    TableShape,
    compare,
)

VALUE_CHARS = 80


@click.command("diff")
@click.argument("keyspace_a")
@click.argument("keyspace_b")
@click.option("--format", "fmt", type=click.Choice(["text", "jsonl"]), default="text")
@click.option("--limit", type=int, default=100, help="Differences shown (all are counted).")
def diff(keyspace_a: str, keyspace_b: str, fmt: str, limit: int) -> None:
    """Compare the read models of two keyspaces (e.g. live and a replay) row by row."""
    settings = Settings()
    partitions = _partition_count(settings)
    cluster, session = connect_configured(settings, None)
    try:
        try:
            shapes_a, shapes_b = (
                table_shapes(session, keyspace_a),
                table_shapes(session, keyspace_b),
            )
        except KeyspaceMissing as error:
            raise click.ClickException(str(error)) from None
        counted = {"rows_a": 0, "rows_b": 0, "differences": 0}
        notes = _schema_notes(shapes_a, shapes_b)
        tables = sorted((set(shapes_a) & set(shapes_b)) - set(SKIPPED_TABLES))
        for name in tables:
            shape = _common(shapes_a[name], shapes_b[name])
            a = _counting(scan(session, keyspace_a, shape, shape.columns), counted, "rows_a")
            b = _counting(scan(session, keyspace_b, shape, shape.columns), counted, "rows_b")
            for difference in compare(shape, a, b):
                counted["differences"] += 1
                if counted["differences"] <= limit:
                    _show(difference, fmt, partitions)
    finally:
        cluster.shutdown()
    _summary(keyspace_a, keyspace_b, tables, notes, counted, fmt)
    sys.exit(1 if counted["differences"] or notes else 0)


def _partition_count(settings: Settings) -> int | None:
    """Partitions of the event topic, to say which partition a row's offsets are in."""
    try:
        return len(log_ends(settings.kafka_bootstrap, settings.topic_conversation_events))
    except Exception:  # Kafka is optional here: the offsets are named all the same
        return None


def _common(a: TableShape, b: TableShape) -> TableShape:
    return TableShape(a.name, a.key_columns, tuple(c for c in a.columns if c in b.columns))


def _schema_notes(a: dict[str, TableShape], b: dict[str, TableShape]) -> list[str]:
    notes = [f"table {t} only in A" for t in sorted(set(a) - set(b) - set(SKIPPED_TABLES))]
    notes += [f"table {t} only in B" for t in sorted(set(b) - set(a) - set(SKIPPED_TABLES))]
    for name in sorted(set(a) & set(b)):
        if (
            set(a[name].columns) != set(b[name].columns)
            or a[name].key_columns != b[name].key_columns
        ):
            notes.append(f"table {name} has other columns in A and B (common ones compared)")
    return notes


def _counting(rows: Iterator[Any], counted: dict[str, int], name: str) -> Iterator[Any]:
    for row in rows:
        counted[name] += 1
        yield row


def _where(difference: RowDifference, partitions: int | None) -> str:
    offsets = [
        f"{side} {offset}"
        for side, offset in (("A", difference.a_offset), ("B", difference.b_offset))
        if offset is not None
    ]
    text = "written at offset " + (", ".join(offsets) or "? (the row carries none)")
    if difference.stream:
        partition = (
            ""
            if partitions is None
            else f"partition {partition_for(difference.stream, partitions)}, "
        )
        text += f" ({partition}the log of {difference.stream})"
    return text


def _value(value: Any) -> str:
    text = value.hex() if isinstance(value, bytes) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= VALUE_CHARS else text[: VALUE_CHARS - 3] + "..."


def _show(difference: RowDifference, fmt: str, partitions: int | None) -> None:
    d = difference
    if fmt == "jsonl":
        record = {
            "table": d.table, "key": dict(d.key), "kind": d.kind, "columns": list(d.columns),
            "a_offset": d.a_offset, "b_offset": d.b_offset, "stream": d.stream,
            "partition": None if partitions is None or not d.stream
            else partition_for(d.stream, partitions),
            "a": {c: _value(d.a[c]) for c in d.columns} if d.a is not None else None,
            "b": {c: _value(d.b[c]) for c in d.columns} if d.b is not None else None,
        }  # fmt: skip
        click.echo(json.dumps(record, ensure_ascii=False))
        return
    key = " ".join(f"{column}={_value(value)}" for column, value in d.key)
    what = {"only_in_a": "only in A", "only_in_b": "only in B"}.get(d.kind, "changed")
    click.echo(f"{d.table} {key}: {what}; {_where(d, partitions)}")
    for column in d.columns:
        assert d.a is not None and d.b is not None
        click.echo(f"    {column}: A {_value(d.a[column])}  B {_value(d.b[column])}")


def _summary(
    a: str, b: str, tables: list[str], notes: list[str], counted: dict[str, int], fmt: str
) -> None:
    lines = [
        f"compared {len(tables)} tables of A={a} and B={b}: {counted['rows_a']:,} rows in A, "
        f"{counted['rows_b']:,} in B, {counted['differences']:,} rows differ",
        *notes,
        "not compared, by design:",
        *(f"  table {t}: {why}" for t, why in SKIPPED_TABLES.items()),
        *(
            f"  column {t}.{c}: {why}"
            for t, columns in IGNORED_COLUMNS.items()
            for c, why in columns.items()
        ),
    ]
    click.echo("\n".join(lines), err=fmt == "jsonl")
