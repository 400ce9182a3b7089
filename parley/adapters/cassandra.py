"""Cassandra connection and an asyncio bridge over the driver's callback futures."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

from cassandra import ConsistencyLevel
from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile, Session
from cassandra.policies import DCAwareRoundRobinPolicy, TokenAwarePolicy

REQUEST_TIMEOUT_S = 20.0
MAX_IN_FLIGHT = 64  # concurrent requests per writer: enough to hide latency, not to swamp a node


class CassandraSettings(Protocol):
    """The settings a connection is made from (parley.config.Settings has them)."""

    @property
    def cassandra_hosts(self) -> Sequence[str]: ...
    @property
    def cassandra_port(self) -> int: ...
    @property
    def cassandra_keyspace(self) -> str: ...
    @property
    def cassandra_consistency(self) -> str: ...


SETTINGS_KEYSPACE = "<settings>"


def connect_configured(
    settings: CassandraSettings, keyspace: str | None = SETTINGS_KEYSPACE
) -> tuple[Cluster, Session]:
    """`connect` as the settings say: their hosts, port and consistency, and their keyspace
    (or `keyspace`; None: no keyspace). The one place settings become a Cassandra session."""
    return connect(
        settings.cassandra_hosts,
        settings.cassandra_port,
        settings.cassandra_keyspace if keyspace == SETTINGS_KEYSPACE else keyspace,
        consistency=settings.cassandra_consistency,
    )


def connect(
    hosts: Sequence[str],
    port: int,
    keyspace: str | None = None,
    local_dc: str = "datacenter1",
    consistency: str = "LOCAL_QUORUM",
) -> tuple[Cluster, Session]:
    """A cluster and session; token-aware, so each write goes straight to a replica.

    Every statement runs at `consistency` (a ConsistencyLevel name). LOCAL_QUORUM is the
    default: on one node it is that node, on a replication factor of 3 a read sees every write
    acknowledged before it while one replica is down."""
    logging.getLogger("cassandra").setLevel(logging.ERROR)
    profile = ExecutionProfile(
        load_balancing_policy=TokenAwarePolicy(DCAwareRoundRobinPolicy(local_dc=local_dc)),
        request_timeout=REQUEST_TIMEOUT_S,
        consistency_level=ConsistencyLevel.name_to_value[consistency],
    )
    cluster = Cluster(
        list(hosts),
        port=port,
        execution_profiles={EXEC_PROFILE_DEFAULT: profile},
        protocol_version=5,
    )
    session = cluster.connect(keyspace)
    return cluster, session


async def execute(session: Session, statement: Any, params: Any = None) -> list[Any]:
    """Runs one statement on the driver's I/O thread; the rows come back on the event loop.

    Results larger than one page are not followed: callers bound their queries with LIMIT."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[list[Any]] = loop.create_future()

    def ok(rows: Any) -> None:
        loop.call_soon_threadsafe(_settle, done, list(rows or ()), None)

    def failed(error: BaseException) -> None:
        loop.call_soon_threadsafe(_settle, done, None, error)

    session.execute_async(statement, params).add_callbacks(ok, failed)
    return await done


def _settle(done: asyncio.Future[list[Any]], rows: Any, error: BaseException | None) -> None:
    if done.done():
        return
    if error is not None:
        done.set_exception(error)
    else:
        done.set_result(rows)


class Statements:
    """Named CQL statements, prepared once on a session."""

    def __init__(self, session: Session, cql: Mapping[str, str]) -> None:
        self.session = session
        self._prepared = {name: session.prepare(text) for name, text in cql.items()}

    def __getitem__(self, name: str) -> Any:
        return self._prepared[name]

    async def rows(self, name: str, *params: Any) -> list[Any]:
        """Runs the statement `name` with `params` (one page: see `execute`)."""
        return await execute(self.session, self._prepared[name], params)


async def execute_all(
    session: Session, statements: Iterable[tuple[Any, Any]], limit: int = MAX_IN_FLIGHT
) -> None:
    """Runs statements concurrently, at most `limit` in flight; raises the first failure
    once all have settled (so no write is still running when the caller moves on)."""
    gate = asyncio.Semaphore(limit)

    async def run(statement: Any, params: Any) -> None:
        async with gate:
            await execute(session, statement, params)

    results = await asyncio.gather(*(run(s, p) for s, p in statements), return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
