"""Fixtures of the contract suites: a keyspace with the schema per suite, on the real Cassandra."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest


@pytest.fixture(scope="module")
def contract_keyspace(request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh keyspace with every migration for the module's Cassandra runs (requested only by
    them, so the memory runs need no engine); tests keep apart by their own ids."""
    from infra.local.migrations import apply as apply_migrations

    session = request.getfixturevalue("cassandra_session")
    keyspace = f"contract_{uuid.uuid4().hex[:8]}"
    apply_migrations(session, keyspace)
    yield keyspace
    session.execute(f"DROP KEYSPACE IF EXISTS {keyspace}", timeout=120)
