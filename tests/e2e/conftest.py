"""Fixtures of the end-to-end suite: engines required, one shared `parley run` stack, clients."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar

import pytest

from parley.sdk import AdminClient, ParleyClient
from tests.e2e.stack import Stack, parley_run

T = TypeVar("T")
ClientFactory = Callable[[str], Awaitable[ParleyClient]]


@pytest.fixture(scope="session")
def engines(kafka_bootstrap: str, cassandra_session: Any, minio_client: Any) -> Any:
    """Skips (locally) or fails (CI) when an engine is down; yields a Cassandra session."""
    return cassandra_session


@contextlib.contextmanager
def stack_of(
    log_dir: Path,
    cassandra_session: Any,
    *,
    as_in_readme: bool = False,
    settings: Mapping[str, str] | None = None,
) -> Iterator[Stack]:
    with parley_run(log_dir, as_in_readme=as_in_readme, settings=settings) as stack:
        try:
            yield stack
        finally:
            keyspace = stack.env["PARLEY_CASSANDRA_KEYSPACE"]
            with contextlib.suppress(Exception):
                cassandra_session.execute(f"DROP KEYSPACE IF EXISTS {keyspace}", timeout=120)


@pytest.fixture(scope="session")
def shared_stack(tmp_path_factory: pytest.TempPathFactory, engines: Any) -> Iterator[Stack]:
    """One `parley run` for the tests that do not stop it themselves."""
    with stack_of(tmp_path_factory.mktemp("stack"), engines) as stack:
        yield stack
        stack.stop()


async def connect_user(stack: Stack, user_id: str) -> ParleyClient:
    async with AdminClient(stack.ingress, stack.admin_secret) as admin:
        issued = await admin.issue_token(user_id)
    return await ParleyClient.connect(stack.ingress, issued.token, delivery_target=stack.delivery)


@pytest.fixture
async def user_of(shared_stack: Stack) -> AsyncIterator[ClientFactory]:
    clients: list[ParleyClient] = []

    async def connect(user_id: str) -> ParleyClient:
        client = await connect_user(shared_stack, user_id)
        clients.append(client)
        return client

    yield connect
    for client in clients:
        await client.close()
