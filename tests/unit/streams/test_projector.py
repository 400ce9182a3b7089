"""The projector's write phases, its failure handling and `forget`, over the in-memory store."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import pytest

from parley.adapters.memory_projection_store import InMemoryProjectionStore
from parley.domain.projection_state import RECENT_MESSAGES, ConversationState
from parley.domain.read_models import PROJECTOR_NAME, Notice, RowWrite
from streams.projector import Projector
from tests.unit.domain.projection_script import GROUP, PEER_AB, Script, scripted_history

TOPIC = "conv"


class Store(InMemoryProjectionStore):
    """The in-memory store, recording the order of its writes and failing where told."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []
        self.fail_once: set[str] = set()
        self.loaded: list[str] = []

    def _enter(self, name: str) -> None:
        self.calls.append(name)
        if name in self.fail_once:
            self.fail_once.discard(name)
            raise ConnectionError(f"{name} failed")

    async def write_rows(self, writes: Iterable[RowWrite]) -> None:
        self._enter("rows")
        await super().write_rows(writes)

    async def save_states(self, states: Iterable[ConversationState]) -> None:
        self._enter("states")
        await super().save_states(states)

    async def save_positions(self, projector: str, topic: str, offsets: Mapping[int, int]) -> None:
        self._enter("positions")
        await super().save_positions(projector, topic, offsets)

    async def load_states(self, keys: Iterable[str]) -> dict[str, ConversationState]:
        keys = list(keys)
        self.loaded += keys
        return await super().load_states(keys)


class Notices:
    def __init__(self, store: Store) -> None:
        self.store, self.published, self.fail_once = store, list[Notice](), False

    async def publish(self, notices: Sequence[Notice]) -> None:
        self.store.calls.append("notices")
        if self.fail_once:
            self.fail_once = False
            raise ConnectionError("the log did not acknowledge")
        self.published += notices


def projector(store: Store | None = None) -> tuple[Projector, Store, Notices]:
    store = store or Store()
    notices = Notices(store)
    return Projector(store, TOPIC, notices), store, notices


async def projected(script: Script) -> Store:
    target, store, _ = projector()
    await target.apply(script.logged)
    return store


async def test_projector__stores_rows_then_notices_then_states_then_positions() -> None:
    target, store, notices = projector()
    stats = await target.apply(scripted_history().logged)
    assert store.calls == ["rows", "notices", "states", "positions"]
    assert stats.notices == len(notices.published) > 0
    assert await store.positions(PROJECTOR_NAME, TOPIC) == {0: len(scripted_history().logged) - 1}


async def test_projector__an_empty_batch_writes_nothing() -> None:
    target, store, _ = projector()
    stats = await target.apply([])
    assert (stats.events, store.calls) == (0, [])


@pytest.mark.parametrize("failing", ["rows", "notices", "states", "positions"])
async def test_projector__a_batch_retried_after_a_failed_phase_ends_as_one_clean_run(
    failing: str,
) -> None:
    script = scripted_history()
    target, store, notices = projector()
    if failing == "notices":
        notices.fail_once = True
    else:
        store.fail_once.add(failing)
    with pytest.raises(ConnectionError):
        await target.apply(script.logged)
    # Nothing after the failed phase is stored: no position, so Kafka redelivers the batch.
    assert await store.positions(PROJECTOR_NAME, TOPIC) == {}
    await target.apply(script.logged)
    clean = await projected(script)
    assert store.models.snapshot() == clean.models.snapshot()
    assert store.models.states == clean.models.states
    assert await store.positions(PROJECTOR_NAME, TOPIC) == await clean.positions(
        PROJECTOR_NAME, TOPIC
    )
    # Every notice of the batch reached the sink at least once (a retry may repeat some).
    clean_notices = Notices(clean)
    await Projector(Store(), TOPIC, clean_notices).apply(script.logged)
    assert set(clean_notices.published) <= set(notices.published)


async def test_projector__a_failed_batch_forgets_cached_states_and_reloads_them() -> None:
    script = Script()
    script.send(PEER_AB, "alice", "one")
    target, store, _ = projector()
    await target.apply(script.logged)
    script.send(PEER_AB, "bob", "two")
    store.fail_once.add("rows")
    with pytest.raises(ConnectionError):
        await target.apply(script.logged[1:])
    store.loaded.clear()
    await target.apply(script.logged[1:])
    # The failed fold moved the cached state on; the retry reads the stored one instead.
    assert store.loaded == [PEER_AB]
    rows = store.models.table("history")
    assert [row["seq"] for row in rows.values()] == [1, 2]


async def test_projector__keeps_states_between_batches_until_it_forgets_them() -> None:
    script = Script()
    script.send(PEER_AB, "alice", "one")
    script.send(GROUP, "carol", "hello")
    target, store, _ = projector()
    await target.apply(script.logged)
    assert store.loaded == [PEER_AB, GROUP]  # first seen: looked for in the store
    script.send(PEER_AB, "bob", "two")
    await target.apply(script.logged[2:])
    assert store.loaded == [PEER_AB, GROUP]  # cached: no read
    target.forget()
    script.send(PEER_AB, "alice", "three")
    await target.apply(script.logged[3:])
    assert store.loaded == [PEER_AB, GROUP, PEER_AB]
    seqs = [row["seq"] for key, row in store.models.table("history").items() if key[1] == PEER_AB]
    assert seqs == [1, 2, 3]  # the reloaded state continues the sequence


async def test_projector__a_batch_running_across_forget_caches_nothing() -> None:
    """A rebalance during a batch: another worker may move the conversation on meanwhile, so
    the states this batch folded must not be served from the cache afterwards."""
    script = Script()
    script.send(PEER_AB, "alice", "one")
    store = Store()
    target, _, _ = projector(store)

    original = store.write_rows

    async def forget_while_writing(writes: Iterable[RowWrite]) -> None:
        target.forget()
        await original(writes)

    store.write_rows = forget_while_writing  # type: ignore[method-assign]
    await target.apply(script.logged)
    store.write_rows = original  # type: ignore[method-assign]
    script.send(PEER_AB, "bob", "two")
    await target.apply(script.logged[1:])
    assert store.loaded == [PEER_AB, PEER_AB]  # reloaded, not taken from the cache


async def test_projector__looks_up_messages_older_than_its_window_in_the_store() -> None:
    script = Script()
    first = script.send(PEER_AB, "alice", "one")
    for n in range(RECENT_MESSAGES):
        script.send(PEER_AB, "bob", f"reply {n}")
    target, store, _ = projector()
    await target.apply(script.logged)
    # The first message left the state's window of recent messages: its recall is resolved
    # by the store's messages_by_id rows.
    script.recall(PEER_AB, "alice", first, "alice")
    await target.apply(script.logged[-1:])
    row = store.models.table("history")[("history", PEER_AB, 1)]
    assert (row["recalled"], row["content"], row["recalled_by"]) == (True, None, "alice")
