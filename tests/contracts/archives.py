"""The archive ports' contract suites share this: a port over rows the projector writes, made
either in memory or on the contract keyspace in Cassandra."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import pytest

from parley.adapters.memory_projection_store import InMemoryReadModels
from parley.domain.read_models import RowWrite

P = TypeVar("P")


@dataclass
class Archive(Generic[P]):
    """The port under test and how the projector's rows reach it."""

    port: P
    write: Callable[[Sequence[RowWrite]], Awaitable[None]]


def archive_of(
    request: pytest.FixtureRequest,
    in_memory: Callable[[InMemoryReadModels], P],
    on_cassandra: Callable[[Any], P],
) -> Archive[P]:
    """`request.param` "memory": the in-memory port over fresh read models; "cassandra": the
    Cassandra port over the module's contract keyspace, written by the projection store."""
    if request.param == "memory":
        models = InMemoryReadModels()

        async def apply(rows: Sequence[RowWrite]) -> None:
            models.apply(rows)

        return Archive(in_memory(models), apply)
    from parley.adapters.cassandra_projection_store import CassandraProjectionStore

    session = request.getfixturevalue("contract_session")
    return Archive(on_cassandra(session), CassandraProjectionStore(session).write_rows)
