"""The read-model agent through Faust's `test_context()`, and its Intake, without engines."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from faust.types import TP
from prometheus_client import REGISTRY

from parley.adapters.memory_projection_store import InMemoryProjectionStore
from parley.adapters.wire import encode_event
from parley.config import Settings
from parley.domain.read_models import PROJECTOR_NAME
from streams import agent
from streams.agent import BATCH_WINDOW_S, Intake, install
from streams.app import create_app
from streams.projector import Projector
from tests.unit.domain.projection_script import PEER_AB, Script

TOPIC = "conv"


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def wait_until(predicate: Any, timeout_s: float = 5.0) -> None:
    for _ in range(int(timeout_s / 0.01)):
        if await predicate():
            return
        await asyncio.sleep(0.01)
    raise TimeoutError(f"not true within {timeout_s} s")


async def test_intake__take_hands_over_what_waits_and_a_full_intake_holds_the_next_put() -> None:
    intake = Intake(limit=3)
    for n in (0, 1):
        await intake.put(n)
    assert await intake.take() == [0, 1]
    for n in (2, 3):
        await intake.put(n)
    putting = asyncio.ensure_future(intake.put(4))  # the third: the intake is full
    await asyncio.sleep(0.01)
    assert not putting.done()  # back-pressure on Faust's consumer
    assert await intake.take() == [2, 3, 4]
    await asyncio.wait_for(putting, 1.0)  # room again: the put returns


async def test_intake__a_small_batch_waits_a_moment_for_more() -> None:
    intake = Intake()
    await intake.put("first")
    taking = asyncio.ensure_future(intake.take())
    await asyncio.sleep(BATCH_WINDOW_S / 4)
    await intake.put("second")
    assert await taking == ["first", "second"]


async def test_intake__close_releases_a_put_waiting_for_room() -> None:
    intake = Intake(limit=1)
    putting = asyncio.ensure_future(intake.put("one"))
    await asyncio.sleep(0.01)
    assert not putting.done()
    intake.close()  # the writer stopped: the agent must not wait forever
    await asyncio.wait_for(putting, 1.0)


async def test_intake__take_waits_for_an_event() -> None:
    intake = Intake()
    taking = asyncio.ensure_future(intake.take())
    await asyncio.sleep(0.01)
    assert not taking.done()
    await intake.put("late")
    assert await asyncio.wait_for(taking, 1.0) == ["late"]


async def test_agent__stores_what_it_is_given_and_reports_its_metrics() -> None:
    script = Script()
    for n in range(5):
        script.send(PEER_AB, "alice" if n % 2 else "bob", f"message {n}")
    script.read(PEER_AB, "alice")
    store = InMemoryProjectionStore()
    ends = {0: 10}  # the consumer saw 10 events in partition 0; the test sends 6 of them

    async def open_projector() -> Projector:
        return Projector(store, TOPIC, None)

    app = create_app(Settings(), f"unit-{uuid.uuid4().hex[:8]}")
    agent = install(app, TOPIC, open_projector, highwater=lambda tp: ends.get(tp.partition))
    applied_before = sample("parley_projector_events_applied_total")
    batches_before = sample("parley_projector_batch_events_count")

    async def stored_all() -> bool:
        positions = await store.positions(PROJECTOR_NAME, TOPIC)
        return positions.get(0) == len(script.logged) - 1

    async with agent.test_context() as tested:
        for logged in script.logged:
            # The agent is a generator that yields nothing: Faust's put(wait=True) would wait
            # for a result, so the test waits for the stored position instead.
            await tested.put(encode_event(logged.event), partition=0, wait=False)
        await tested.put(b"not an event", partition=0, wait=False)  # skipped, still acked
        await wait_until(stored_all)

    history = store.models.table("history")
    assert [row["seq"] for row in history.values()] == [1, 2, 3, 4, 5]
    assert (
        store.models.table("user_conversation")[("user_conversation", "alice", PEER_AB)]["read_seq"]
        == 5
    )
    assert sample("parley_projector_events_applied_total") - applied_before == 6
    assert sample("parley_projector_batch_events_count") > batches_before
    # Log end 10, last stored offset 6 (the undecodable record): 3 events left.
    assert sample("parley_projector_lag_events", partition="0") == 3


async def test_agent__a_revoked_partition_drops_cached_states_and_lag() -> None:
    forgotten: list[bool] = []

    class Target(Projector):
        def forget(self) -> None:
            forgotten.append(True)
            super().forget()

    store = InMemoryProjectionStore()

    async def open_projector() -> Projector:
        return Target(store, TOPIC, None)

    app = create_app(Settings(), f"unit-{uuid.uuid4().hex[:8]}")
    agent = install(app, TOPIC, open_projector, highwater=lambda tp: 1)
    script = Script()
    script.send(PEER_AB, "alice", "hi")
    async with agent.test_context() as tested:
        await tested.put(encode_event(script.logged[0].event), partition=7, wait=False)
        await wait_until(lambda: _has_position(store, 7))
        assert sample("parley_projector_lag_events", partition="7") == 0
        await app.on_partitions_revoked.send({TP(TOPIC, 7)})
    assert forgotten == [True]
    assert REGISTRY.get_sample_value("parley_projector_lag_events", {"partition": "7"}) is None


async def _has_position(store: InMemoryProjectionStore, partition: int) -> bool:
    return partition in await store.positions(PROJECTOR_NAME, TOPIC)


def test_agent__observe_counts_batches_and_sets_lag_per_partition() -> None:
    class Message:
        def __init__(self, partition: int, offset: int) -> None:
            self.tp, self.offset = TP(TOPIC, partition), offset

    class Event:
        def __init__(self, partition: int, offset: int) -> None:
            self.message = Message(partition, offset)

    before = sample("parley_projector_events_applied_total")
    events = [Event(11, 4), Event(12, 9), Event(11, 5)]
    ends = {TP(TOPIC, 11): 8, TP(TOPIC, 12): 10}
    agent.observe(events, 3, 0.02, ends.get)
    assert sample("parley_projector_events_applied_total") - before == 3
    assert sample("parley_projector_lag_events", partition="11") == 2  # offsets 6 and 7
    assert sample("parley_projector_lag_events", partition="12") == 0


class FlakyNotices:
    """A NoticeSink whose log is down for its first `failures` calls (as Kafka was for 20 s in
    the fault suite), then takes everything."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.published: list[Any] = []

    async def publish(self, notices: Any) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("the log is down")
        self.published.extend(notices)


async def test_agent__a_failed_batch_is_retried_in_order_and_nothing_is_skipped() -> None:
    # Found by the fault suite: a failed batch stopped the writer, Faust restarted the agent at
    # the consumer's position, and the events of the failed batch were never projected: every
    # later seq of that conversation came out short of a replay.
    script = Script()
    for n in range(6):
        script.send(PEER_AB, "alice" if n % 2 else "bob", f"message {n}")
    store, notices = InMemoryProjectionStore(), FlakyNotices(failures=3)
    retries_before = sample("parley_projector_batch_retries_total")

    async def open_projector() -> Projector:
        return Projector(store, TOPIC, notices)

    app = create_app(Settings(), f"unit-{uuid.uuid4().hex[:8]}")
    agent = install(app, TOPIC, open_projector, highwater=lambda tp: None, retry_first_s=0.01)

    async def stored_all() -> bool:
        positions = await store.positions(PROJECTOR_NAME, TOPIC)
        return positions.get(0) == len(script.logged) - 1

    async with agent.test_context() as tested:
        for logged in script.logged[:3]:
            await tested.put(encode_event(logged.event), partition=0, wait=False)
        await wait_until(lambda: _retried(retries_before + 1))
        for logged in script.logged[3:]:  # the log goes on meanwhile
            await tested.put(encode_event(logged.event), partition=0, wait=False)
        await wait_until(stored_all)

    history = store.models.table("history")
    assert [row["seq"] for row in history.values()] == [1, 2, 3, 4, 5, 6]
    assert sample("parley_projector_batch_retries_total") - retries_before == 3
    assert notices.published  # and the notices went out once the log was back


async def test_agent__a_revoked_partition_drops_what_waits_and_the_batch_being_retried() -> None:
    # Faust clears its own buffers on a revocation and, on the next assignment, starts again at
    # the committed offset: events the intake still held from before must not be applied ahead
    # of the ones Faust hands over again.
    intake = Intake()
    ours, theirs = TP(TOPIC, 1), TP(TOPIC, 2)

    class Event:
        def __init__(self, tp: TP, offset: int) -> None:
            self.message = type("Message", (), {"tp": tp, "offset": offset})()

    taken = [Event(ours, 1), Event(theirs, 1)]
    for event in taken:
        await intake.put(event)
    batch = await intake.take()
    for event in (Event(ours, 2), Event(theirs, 2), Event(theirs, 3)):
        await intake.put(event)
    intake.revoke({theirs})
    assert [(e.message.tp, e.message.offset) for e in intake.owned(batch)] == [(ours, 1)]
    assert [(e.message.tp, e.message.offset) for e in await intake.take()] == [(ours, 2)]
    assert intake.owned(batch) == batch  # a new batch: nothing revoked since it was taken


async def _retried(at_least: float) -> bool:
    return sample("parley_projector_batch_retries_total") >= at_least
