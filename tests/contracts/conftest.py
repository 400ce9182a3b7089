"""Fixtures of the contract suites: a keyspace with the schema per suite, on the real Cassandra."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

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


@pytest.fixture
def contract_session(contract_keyspace: str) -> Iterator[Any]:
    """A Cassandra session on the module's contract keyspace."""
    from parley.adapters.cassandra import connect

    cluster, session = connect(["127.0.0.1"], 9042, contract_keyspace)
    try:
        yield session
    finally:
        cluster.shutdown()


ENGINES = {"kafka", "cassandra", "minio"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A contract run against a real engine is an integration test (`make check` leaves it out);
    its in-memory twin is not."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and ENGINES & {str(v) for v in callspec.params.values()}:
            item.add_marker(pytest.mark.integration)
