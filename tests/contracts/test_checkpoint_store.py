"""CheckpointStore contract, run against the in-memory fake and against real Cassandra."""

from __future__ import annotations

import uuid

import pytest

from parley.adapters.cassandra_checkpoints import CHUNK_BYTES, CassandraCheckpointStore
from parley.adapters.memory_checkpoints import InMemoryCheckpointStore
from parley.domain.checkpoints import Checkpoint, seal, unseal
from parley.ports import CheckpointStore

FOLD, TOPIC = "write_model", "conv"


@pytest.fixture(params=["memory", "cassandra"])
def store(request: pytest.FixtureRequest) -> CheckpointStore:
    if request.param == "memory":
        return InMemoryCheckpointStore()
    return CassandraCheckpointStore(request.getfixturevalue("contract_session"))


def fold_name() -> str:
    return f"{FOLD}-{uuid.uuid4().hex[:6]}"  # each test its own fold: one keyspace per module


async def test_checkpoint_store__saves_lists_newest_first_and_loads_what_it_saved(
    store: CheckpointStore,
) -> None:
    fold = fold_name()
    assert await store.ids(fold) == []
    first = seal(fold, 1_000, TOPIC, {0: 5, 1: 7}, {"n": 1})
    second = seal(fold, 2_000, TOPIC, {0: 9, 1: 7}, {"n": 2})
    await store.save(first)
    await store.save(second)
    assert await store.ids(fold) == [2_000, 1_000]
    assert await store.load(fold, 1_000) == first
    loaded = await store.load(fold, 2_000)
    assert loaded == second and loaded is not None
    assert unseal(loaded, fold, TOPIC) == {"n": 2}
    assert await store.load(fold, 3_000) is None
    assert await store.ids(fold_name()) == []  # folds do not see each other's


async def test_checkpoint_store__a_payload_of_many_chunks_comes_back_whole(
    store: CheckpointStore,
) -> None:
    fold = fold_name()
    # Incompressible, so the sealed payload spans several chunks.
    document = {"noise": [uuid.uuid4().hex for _ in range(3 * CHUNK_BYTES // 32)]}
    big = seal(fold, 5, TOPIC, {0: 1}, document)
    await store.save(big)
    loaded = await store.load(fold, 5)
    assert isinstance(loaded, Checkpoint) and loaded.payload == big.payload
    assert unseal(loaded, fold, TOPIC) == document


async def test_checkpoint_store__delete_is_idempotent_and_unlists(store: CheckpointStore) -> None:
    fold = fold_name()
    await store.save(seal(fold, 1, TOPIC, {0: 1}, [1]))
    await store.save(seal(fold, 2, TOPIC, {0: 2}, [2]))
    await store.delete(fold, 1)
    await store.delete(fold, 1)
    assert await store.ids(fold) == [2]
    assert await store.load(fold, 1) is None
