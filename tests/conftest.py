"""Shared fixtures: handles on the real engines started by `make infra-up`.

An engine that does not answer skips the test locally (with the command to start it) and
fails it under CI=true, where the engines are required."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from infra.local.cassandra import Cassandra, connect_cluster
from infra.local.engine import Engine
from infra.local.kafka import BOOTSTRAP, Kafka
from infra.local.minio import MinIO
from infra.local.settings import Settings, load_versions


def _require(engine_type: type[Engine]) -> Engine:
    engine = engine_type(Settings.from_env(), load_versions())
    try:
        engine.probe()
    except Exception as error:
        message = (
            f"{engine.name} is not reachable on 127.0.0.1:{engine.ports[0]} "
            f"({type(error).__name__}: {error}); start it with `make infra-up`"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return engine


@pytest.fixture
def listener() -> Iterator[int]:
    """A port this test process listens on (and never accepts on) while the test runs."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield int(server.getsockname()[1])


@pytest.fixture
def unique_name() -> Callable[[str], str]:
    """`unique_name("orders")` -> "orders_3f2a9c1b": per-test topics, keyspaces, buckets."""
    return lambda prefix: f"{prefix}_{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="session")
def kafka_bootstrap() -> str:
    _require(Kafka)
    return BOOTSTRAP


@pytest.fixture(scope="session")
def cassandra_session() -> Iterator[Any]:
    _require(Cassandra)
    cluster = connect_cluster()
    try:
        yield cluster.connect()
    finally:
        cluster.shutdown()


@pytest.fixture(scope="session")
def minio_client() -> Any:
    engine = _require(MinIO)
    assert isinstance(engine, MinIO)
    return engine.client()
