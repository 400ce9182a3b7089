"""Versioned CQL migrations (infra/cassandra/NNNN_<name>.cql), applied once each, in order."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.local.settings import INFRA_DIR

MIGRATIONS_DIR = INFRA_DIR / "cassandra"
_FILE = re.compile(r"^(?P<version>\d{4})_(?P<name>[a-z0-9_]+)\.cql$")
_KEYSPACE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,47}$")


class MigrationError(Exception):
    """The migration files or the recorded history are inconsistent; nothing was applied."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    text: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()

    def statements(self) -> list[str]:
        """The CQL statements: `--` and `//` comment lines dropped, split on `;` at line end."""
        kept = [
            line for line in self.text.splitlines() if not line.lstrip().startswith(("--", "//"))
        ]
        chunks = re.split(r";\s*$", "\n".join(kept), flags=re.MULTILINE)
        return [chunk.strip() for chunk in chunks if chunk.strip()]


def discover(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """All migration files, ordered by version; rejects misnamed files and duplicate versions."""
    found: dict[int, Migration] = {}
    for path in sorted(directory.glob("*.cql")):
        match = _FILE.fullmatch(path.name)
        if match is None:
            raise MigrationError(f"{path.name}: name must look like 0001_lower_snake_case.cql")
        version = int(match.group("version"))
        if version in found:
            raise MigrationError(f"two migrations with version {version:04d}")
        found[version] = Migration(version, match.group("name"), path.read_text())
    return [found[version] for version in sorted(found)]


def pending(migrations: list[Migration], applied: dict[int, str]) -> list[Migration]:
    """What is left to apply, given {version: checksum} already recorded; refuses edited
    or vanished files, because Cassandra DDL cannot be rolled back or re-run blindly."""
    known = {migration.version: migration for migration in migrations}
    for version, checksum in sorted(applied.items()):
        if version not in known:
            raise MigrationError(f"migration {version:04d} was applied but its file is gone")
        if known[version].checksum != checksum:
            raise MigrationError(
                f"migration {version:04d}_{known[version].name} changed after it was applied; "
                "add a new migration instead of editing an applied one"
            )
    return [migration for migration in migrations if migration.version not in applied]


def apply(
    session: Any,
    keyspace: str,
    directory: Path = MIGRATIONS_DIR,
    replication_factor: int = 1,
) -> list[Migration]:
    """Create `keyspace` and its schema_migrations table if needed, then apply and record each
    pending migration. Safe to rerun; returns the migrations applied by this call."""
    if not _KEYSPACE.fullmatch(keyspace):
        raise MigrationError(f"invalid keyspace name {keyspace!r}")
    migrations = discover(directory)
    session.execute(
        f"CREATE KEYSPACE IF NOT EXISTS {keyspace} WITH replication = "
        f"{{'class': 'SimpleStrategy', 'replication_factor': {replication_factor}}}"
    )
    session.execute(
        f"CREATE TABLE IF NOT EXISTS {keyspace}.schema_migrations ("
        "version int PRIMARY KEY, name text, applied_at timestamp, checksum text)"
    )
    rows = session.execute(f"SELECT version, checksum FROM {keyspace}.schema_migrations")
    todo = pending(migrations, {row.version: row.checksum for row in rows})
    if not todo:
        return []
    session.set_keyspace(keyspace)
    record = session.prepare(
        "INSERT INTO schema_migrations (version, name, applied_at, checksum) "
        "VALUES (?, ?, toTimestamp(now()), ?)"
    )
    for migration in todo:
        for statement in migration.statements():
            session.execute(statement)
        session.execute(record, (migration.version, migration.name, migration.checksum))
    return todo
