"""Real Cassandra: prepared statements round-trip; migrations apply once and only once."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from infra.local import migrations

pytestmark = pytest.mark.integration


def _drop(session: Any, keyspace: str) -> None:
    session.execute(f"DROP KEYSPACE IF EXISTS {keyspace}")


def test_cassandra__prepared_statements_round_trip(
    cassandra_session: Any, unique_name: Callable[[str], str]
) -> None:
    keyspace = unique_name("test_roundtrip")
    session = cassandra_session
    session.execute(
        f"CREATE KEYSPACE {keyspace} WITH replication = "
        "{'class': 'SimpleStrategy', 'replication_factor': 1}"
    )
    try:
        session.execute(
            f"CREATE TABLE {keyspace}.notes (owner text, seq int, body text, "
            "PRIMARY KEY ((owner), seq)) WITH CLUSTERING ORDER BY (seq DESC)"
        )
        insert = session.prepare(
            f"INSERT INTO {keyspace}.notes (owner, seq, body) VALUES (?, ?, ?)"
        )
        for seq in range(5):
            session.execute(insert, ("alice", seq, f"note {seq}"))
        session.execute(insert, ("bob", 0, "other partition"))

        select = session.prepare(f"SELECT seq, body FROM {keyspace}.notes WHERE owner = ?")
        rows = list(session.execute(select, ("alice",)))
        assert [(r.seq, r.body) for r in rows] == [(s, f"note {s}") for s in range(4, -1, -1)]
    finally:
        _drop(session, keyspace)


def test_migrations__apply_twice_records_each_version_once(
    cassandra_session: Any, unique_name: Callable[[str], str]
) -> None:
    keyspace = unique_name("test_migrations")
    session = cassandra_session
    try:
        first = migrations.apply(session, keyspace)
        second = migrations.apply(session, keyspace)

        expected = [m.version for m in migrations.discover()]
        assert [m.version for m in first] == expected
        assert second == []
        rows = list(session.execute(f"SELECT version, checksum FROM {keyspace}.schema_migrations"))
        assert sorted(r.version for r in rows) == expected
        # The first migration's table is usable.
        session.execute(
            f"INSERT INTO {keyspace}.projection_positions "
            "(projector, topic, partition, applied_offset, updated_at) VALUES (%s, %s, %s, %s, %s)",
            ("messages_by_conversation", "parley.conversation-events", 3, 41, datetime.now(UTC)),
        )
        row = session.execute(
            f"SELECT applied_offset FROM {keyspace}.projection_positions WHERE projector = %s",
            ("messages_by_conversation",),
        ).one()
        assert row.applied_offset == 41
    finally:
        _drop(session, keyspace)


def test_migrations__refuses_an_edited_applied_file(
    cassandra_session: Any, unique_name: Callable[[str], str], tmp_path: Path
) -> None:
    keyspace = unique_name("test_migrations_edit")
    session = cassandra_session
    source = migrations.discover()[0]
    copied = tmp_path / f"{source.version:04d}_{source.name}.cql"
    shutil.copy(migrations.MIGRATIONS_DIR / copied.name, copied)
    try:
        migrations.apply(session, keyspace, directory=tmp_path)
        copied.write_text(copied.read_text() + "\n-- edited after the fact\n")
        with pytest.raises(migrations.MigrationError, match="changed after it was applied"):
            migrations.apply(session, keyspace, directory=tmp_path)
    finally:
        _drop(session, keyspace)
