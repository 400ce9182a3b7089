"""Resume and read-model updates: delivery with the real projector (Faust) and Cassandra."""

from __future__ import annotations

import asyncio
import signal
from dataclasses import dataclass
from typing import Any

import grpc
import pytest

from parley import metrics
from parley.adapters.cassandra import connect as connect_cassandra
from parley.adapters.cassandra_checkpoints import CassandraCheckpointStore
from parley.domain.delivery_fold import DELIVERY_FOLD
from parley.gen.parley.v1 import ingress_pb2
from services.checkpoints.writer import write_checkpoints
from tests.integration.delivery.conftest import DeliveryFactory
from tests.integration.delivery.harness import SessionClient, connect, start_delivery_process
from tests.integration.ingress_harness import GROUP, PEER, Ingress, IngressFactory
from tests.integration.projection_harness import (  # noqa: F401 (fixtures)
    ProjectionEnv,
    projected_ingress_fixture,
    projection_env_fixture,
)

pytestmark = pytest.mark.integration


@dataclass
class Stack:
    ingress: Ingress
    env: ProjectionEnv


@pytest.fixture
async def stack(projection_env: ProjectionEnv, projected_ingress: IngressFactory) -> Stack:
    """Ingress, projector worker and (per test) delivery on one set of fresh topics."""
    ingress = await projected_ingress(rate_per_second=1000)
    projection_env.start_worker()
    return Stack(ingress, projection_env)


def seqs(session: SessionClient, key: str) -> list[int]:
    return [m.message.seq for m in session.messages(key)]


@pytest.mark.parametrize("max_batch", [0, 64], ids=["one-frame-per-write", "batches"])
async def test_delivery__a_session_back_after_a_disconnect_gets_every_message_once_in_order(
    stack: Stack, delivery_factory: DeliveryFactory, max_batch: int
) -> None:
    ingress = stack.ingress
    _, channel = await delivery_factory(ingress, keyspace=stack.env.keyspace)
    alice, bob = await ingress.client("alice"), await ingress.client("bob")
    first = await connect(channel, "bob", bob.token)
    key = (await alice.send(PEER, "bob", "1")).conversation_key
    await first.wait(lambda s: seqs(s, key) == [1])
    await first.close()
    # While Bob is away Alice sends 20; while he reconnects she keeps sending 20 more.
    for n in range(20):
        await alice.send(PEER, "bob", f"away {n}")

    async def keep_sending() -> None:
        for n in range(20):
            await alice.send(PEER, "bob", f"during {n}")

    sender = asyncio.ensure_future(keep_sending())
    second = await connect(
        channel, "bob", bob.token, first.positions(), resume=True, max_batch=max_batch
    )
    await sender
    await second.wait(lambda s: len(s.messages(key)) >= 40, timeout_s=30)
    assert seqs(second, key) == list(range(2, 42))
    texts = [m.message.body.text.text for m in second.messages(key)]
    assert texts == [f"away {n}" for n in range(20)] + [f"during {n}" for n in range(20)]
    filled = [m for m in second.messages(key) if not m.live]
    assert filled and filled[0].message.seq == 2, [
        (f.WhichOneof("frame"), f.message.message.seq, f.message.live) for f in second.frames
    ]  # the gap came from the read model
    # The filled rows are queued at once: a client that takes batches gets them in few writes.
    assert (second.batches > 0) == (max_batch > 1)
    await second.close()


async def test_delivery__killing_a_node_and_reconnecting_to_another_loses_nothing(
    stack: Stack, delivery_factory: DeliveryFactory
) -> None:
    ingress = stack.ingress
    process, port = await start_delivery_process(ingress, stack.env.keyspace)
    try:
        _, other = await delivery_factory(ingress, keyspace=stack.env.keyspace)
        alice, bob = await ingress.client("alice"), await ingress.client("bob")
        await alice.groups.CreateGroup(
            ingress_pb2.CreateGroupRequest(group_id="g1", member_ids=["bob"]), metadata=alice.auth
        )
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as doomed_channel:
            doomed = await connect(doomed_channel, "bob", bob.token)
            for n in range(5):
                await alice.send(GROUP, "g1", f"{n}")
            await doomed.wait(lambda s: len(s.messages("g:g1")) == 5)
            # The node dies without a word; messages keep coming meanwhile.
            process.send_signal(signal.SIGKILL)
            process.wait(10)
            for n in range(5, 15):
                await alice.send(GROUP, "g1", f"{n}")
            await doomed.wait_ended()
        resumed = await connect(other, "bob", bob.token, doomed.positions(), resume=True)
        await alice.send(GROUP, "g1", "15")
        await resumed.wait(lambda s: len(s.messages("g:g1")) == 11, timeout_s=30)
        assert seqs(doomed, "g:g1") + seqs(resumed, "g:g1") == list(range(1, 17))
        await resumed.close()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)


async def test_delivery__receipts_and_mentions_arrive_as_updates(
    stack: Stack, delivery_factory: DeliveryFactory
) -> None:
    ingress = stack.ingress
    _, channel = await delivery_factory(ingress, keyspace=stack.env.keyspace)
    alice, bob = await ingress.client("alice"), await ingress.client("bob")
    await alice.groups.CreateGroup(
        ingress_pb2.CreateGroupRequest(group_id="g1", member_ids=["bob"]), metadata=alice.auth
    )
    sender = await connect(channel, "alice", alice.token)
    reader = await connect(channel, "bob", bob.token)
    # A mention of Bob in the group becomes a conversation change with one unread mention.
    await alice.send(GROUP, "g1", "@bob", mentioned_user_ids=["bob"])
    await reader.wait(
        lambda s: any(
            u.conversation_changed.mention_count == 1 and u.conversation_key == "g:g1"
            for u in s.of("update")
        ),
        timeout_s=30,
    )
    # Bob acks a peer message on his stream: Alice gets the delivered receipt.
    sent = await alice.send(PEER, "bob", "hello")
    await reader.wait(lambda s: len(s.messages(sent.conversation_key)) == 1)
    await reader.ack(reader.messages(sent.conversation_key))
    await sender.wait(
        lambda s: any(
            u.HasField("receipt_changed")
            and not u.receipt_changed.read
            and u.receipt_changed.seq == 1
            for u in s.of("update")
        ),
        timeout_s=30,
    )
    await sender.close()
    await reader.close()


async def test_delivery__a_node_restored_from_a_checkpoint_mid_traffic_pushes_the_same_seqs(
    stack: Stack, delivery_factory: DeliveryFactory
) -> None:
    ingress, keyspace = stack.ingress, stack.env.keyspace
    settings = ingress.settings.model_copy(
        update={
            "cassandra_keyspace": keyspace,
            "checkpoint_every_events": 5,
            "checkpoint_interval_s": 0.2,
        }
    )
    # A node that folded the log from offset 0, and traffic before any checkpoint.
    _, veteran_channel = await delivery_factory(ingress, keyspace=keyspace)
    alice, bob = await ingress.client("alice"), await ingress.client("bob")
    await alice.groups.CreateGroup(
        ingress_pb2.CreateGroupRequest(group_id="g1", member_ids=["bob"]), metadata=alice.auth
    )
    for n in range(20):
        await alice.send(GROUP, "g1", f"before {n}")
    veteran = await connect(veteran_channel, "bob", bob.token)
    # The checkpoint writer seals the delivery fold; traffic goes on meanwhile.
    stop = asyncio.Event()
    writer = asyncio.ensure_future(write_checkpoints(settings, stop))

    async def keep_sending(label: str, count: int) -> None:
        for n in range(count):
            await alice.send(GROUP, "g1", f"{label} {n}")

    await keep_sending("around", 10)
    await wait_for_checkpoint(settings, DELIVERY_FOLD)
    restores = metrics.CHECKPOINT_RESTORES.labels(fold=DELIVERY_FOLD, outcome="restored")
    restored_before = restores._value.get()
    # A new node joins mid-traffic: it restores the checkpoint and reads only the tail.
    sender = asyncio.ensure_future(keep_sending("during", 20))
    _, newcomer_channel = await delivery_factory(ingress, keyspace=keyspace)
    assert restores._value.get() == restored_before + 1
    newcomer = await connect(newcomer_channel, "bob", bob.token, {"g:g1": 20}, resume=True)
    await sender
    await keep_sending("after", 5)
    stop.set()
    await writer
    # Every message once, in order, contiguous, with the seqs the veteran node pushed.
    await newcomer.wait(lambda s: len(s.messages("g:g1")) >= 35, timeout_s=30)
    await veteran.wait(lambda s: len(s.messages("g:g1")) >= 35, timeout_s=30)
    assert seqs(newcomer, "g:g1") == list(range(21, 56))
    pushed = {(m.message.seq, m.message.message_id) for m in newcomer.messages("g:g1")}
    seen = {(m.message.seq, m.message.message_id) for m in veteran.messages("g:g1")}
    assert pushed <= seen
    await newcomer.close()
    await veteran.close()


async def wait_for_checkpoint(settings: Any, fold: str) -> None:
    cluster, session = connect_cassandra(["127.0.0.1"], 9042, settings.cassandra_keyspace)
    try:
        store = CassandraCheckpointStore(session)
        async with asyncio.timeout(60):
            while True:
                if await store.ids(fold):
                    return
                await asyncio.sleep(0.1)
    finally:
        cluster.shutdown()
