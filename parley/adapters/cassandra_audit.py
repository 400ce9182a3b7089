"""Whole-table scans of a keyspace for `parley audit diff`: each table's key columns from the
schema, its rows in Cassandra's order (token, then clustering order), as plain values."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterator, Mapping, Set
from typing import Any

from cassandra.cluster import Session
from cassandra.query import SimpleStatement

from parley.domain.audit_diff import Descending, TableShape

PAGE_ROWS = 2000


class KeyspaceMissing(LookupError):
    """No keyspace of that name in the cluster."""


def table_shapes(session: Session, keyspace: str) -> dict[str, TableShape]:
    """Every table of the keyspace with its key columns (partition key, then clustering)."""
    cluster = session.cluster
    if keyspace in cluster.metadata.keyspaces:
        cluster.refresh_keyspace_metadata(keyspace)  # tables created moments ago included
    else:
        cluster.refresh_schema_metadata()  # a keyspace created by another client just now
    found = cluster.metadata.keyspaces.get(keyspace)
    if found is None:
        raise KeyspaceMissing(f"no keyspace {keyspace!r}")
    shapes = {}
    for name, table in found.tables.items():
        keys = tuple(c.name for c in [*table.partition_key, *table.clustering_key])
        shapes[name] = TableShape(name, keys, tuple(table.columns))
    return shapes


def scan(
    session: Session, keyspace: str, shape: TableShape, columns: tuple[str, ...]
) -> Iterator[tuple[Any, dict[str, Any]]]:
    """(sort key, row) for every row, paged. The sort key orders rows as Cassandra returns
    them: by the partition key's token, then the clustering columns in their declared order
    (two partition keys of equal token, practically never seen, order by their values)."""
    meta = session.cluster.metadata.keyspaces[keyspace].tables[shape.name]
    partition = [c.name for c in meta.partition_key]
    clustering = [(c.name, c.is_reversed) for c in meta.clustering_key]
    quoted = ", ".join(f'"{c}"' for c in columns)
    token = ", ".join(f'"{c}"' for c in partition)
    statement = SimpleStatement(
        f'SELECT token({token}), {quoted} FROM "{keyspace}"."{shape.name}"', fetch_size=PAGE_ROWS
    )
    for values in session.execute(statement):
        row = {name: plain(value) for name, value in zip(columns, values[1:], strict=True)}
        key = (
            values[0],
            tuple(row[c] for c in partition),
            tuple(Descending(row[c]) if reversed_ else row[c] for c, reversed_ in clustering),
        )
        yield key, row


def plain(value: Any) -> Any:
    """Driver values as plain Python: maps as dicts, sets as sorted lists, times as ISO text."""
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, Set):
        return sorted(plain(v) for v in value)
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value
