"""Messages older than the in-memory window, on the real engines: the ingress no longer holds
them, and a read receipt, an owner's recall, GetSendStatus and a retried send still find them
in the message archive (Cassandra messages_by_id, written by a real projector)."""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import grpc
import pytest

from parley.domain.errors import Reason
from parley.domain.events import MessageRead, MessageRecalled, MessageSent
from parley.gen.parley.v1 import common_pb2, ingress_pb2
from services.writes.context import IngressContext
from tests.integration.ingress_harness import GROUP, Client, Ingress, IngressFactory
from tests.integration.projection_harness import (  # noqa: F401 (fixtures)
    ProjectionEnv,
    projected_ingress_fixture,
    projection_env_fixture,
)
from tests.integration.test_ingress_rejections import reason_of

pytestmark = pytest.mark.integration

START_MS = 1_900_000_000_000
WINDOW_S = 1  # idempotency and recall windows: messages_ms is one second of server time


@dataclass
class World:
    """An ingress and a projector on one conversation topic and keyspace, its clock in hand."""

    ingress: Ingress
    context: IngressContext
    env: ProjectionEnv
    clock: itertools.count[int]

    def tick(self, seconds: float) -> None:
        """Moves the ingress's clock (the server time of the events it writes) forward."""
        self.clock = itertools.count(next(self.clock) + int(seconds * 1000))

    def archived(self, message_id: str) -> Any:
        rows = self.env.session.execute(
            f"SELECT * FROM {self.env.keyspace}.messages_by_id WHERE message_id = %s",
            (message_id,),
        )
        return rows.one()

    async def wait_archived(self, message_id: str, recalled: bool = False) -> Any:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            row = self.archived(message_id)
            if row is not None and row.recalled == recalled:
                return row
            await asyncio.sleep(0.05)
        raise TimeoutError(f"{message_id} not archived (recalled={recalled}) within 30 s")

    def events(self) -> list[Any]:
        return [event for _, _, _, event in self.ingress.events()]


@pytest.fixture
async def world(
    projected_ingress: IngressFactory, projection_env: ProjectionEnv
) -> AsyncIterator[World]:
    ingress = await projected_ingress(
        idempotency_window_s=WINDOW_S,
        recall_window_s=WINDOW_S,
        rate_per_second=1000,
    )
    assert ingress.media is not None
    context = ingress.media.ingress
    made = World(ingress, context, projection_env, itertools.count(START_MS))
    context.clock_ms = lambda: next(made.clock)
    projection_env.start_worker()
    yield made


async def old_group_message(world: World) -> tuple[dict[str, Client], str, str]:
    """carol owns g1 (alice, bob members); alice's message is then pushed out of the window
    by one sent 10 s of server time later, and the projector has archived it."""
    users = {name: await world.ingress.client(name) for name in ("alice", "bob", "carol")}
    carol = users["carol"]
    await carol.groups.CreateGroup(
        ingress_pb2.CreateGroupRequest(group_id="g1", name="g", member_ids=["alice", "bob"]),
        metadata=carol.auth,
    )
    cmid = uuid.uuid4().hex
    old = await users["alice"].send(GROUP, "g1", "from long ago", cmid=cmid)
    world.tick(10)
    await users["bob"].send(GROUP, "g1", "much later")
    # The ingress's index has let it go: whatever finds it now reads the archive.
    assert world.context.model.messages.get(old.message_id) is None
    await world.wait_archived(old.message_id)
    return users, old.message_id, cmid


def ref(target: str) -> common_pb2.ConversationRef:
    return common_pb2.ConversationRef(type=GROUP, id=target)


async def test_old_message__a_read_receipt_of_it_is_accepted(world: World) -> None:
    users, message_id, _ = await old_group_message(world)
    bob = users["bob"]
    reply = await bob.messaging.AcknowledgeMessage(
        ingress_pb2.AcknowledgeMessageRequest(
            conversation=ref("g1"), message_id=message_id, kind=ingress_pb2.ACK_KIND_READ
        ),
        metadata=bob.auth,
    )
    assert reply.order_key > 0
    assert MessageRead(message_id) in [e.payload for e in world.events() if e.actor == "bob"]
    # Its sender's own receipt is still BAD_PARAMETER, an unknown id still MESSAGE_NOT_FOUND.
    for user, mid, expected in (
        ("alice", message_id, Reason.BAD_PARAMETER),
        ("bob", "m_" + "a" * 26, Reason.MESSAGE_NOT_FOUND),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await users[user].messaging.AcknowledgeMessage(
                ingress_pb2.AcknowledgeMessageRequest(
                    conversation=ref("g1"), message_id=mid, kind=ingress_pb2.ACK_KIND_READ
                ),
                metadata=users[user].auth,
            )
        assert reason_of(caught.value) is expected


async def test_old_message__the_group_owner_recalls_it_its_sender_may_not(world: World) -> None:
    users, message_id, _ = await old_group_message(world)

    async def recall(user: str) -> ingress_pb2.RecallMessageResponse:
        reply = await users[user].messaging.RecallMessage(
            ingress_pb2.RecallMessageRequest(conversation=ref("g1"), message_id=message_id),
            metadata=users[user].auth,
        )
        assert isinstance(reply, ingress_pb2.RecallMessageResponse)
        return reply

    # 1. past the window, its sender's recall keeps its reason code
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await recall("alice")
    assert reason_of(caught.value) is Reason.RECALL_WINDOW_EXPIRED
    # 2. the owner's recall is accepted and logged
    assert (await recall("carol")).order_key > 0
    assert MessageRecalled(message_id, "alice") in [e.payload for e in world.events()]
    # 3. once projected, recalling it again is ALREADY_RECALLED, read from the archive
    await world.wait_archived(message_id, recalled=True)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await recall("carol")
    assert reason_of(caught.value) is Reason.ALREADY_RECALLED


async def test_old_message__send_status_and_a_retry_answer_the_original(world: World) -> None:
    users, message_id, cmid = await old_group_message(world)
    alice = users["alice"]
    original = world.archived(message_id)
    assert world.context.model.sends.lookup("alice", cmid) is None  # the ledger forgot it
    # 1. GetSendStatus reads the archive: accepted, with the original receipt
    status = await alice.messaging.GetSendStatus(
        ingress_pb2.GetSendStatusRequest(client_message_id=cmid), metadata=alice.auth
    )
    assert (status.status, status.message_id, status.order_key) == (
        ingress_pb2.SEND_STATUS_ACCEPTED, message_id, original.order_key,
    )  # fmt: skip
    assert (status.conversation_key, status.server_time_ms) == ("g:g1", original.sent_at_ms)
    # 2. the same send again, marked as a retry (the SDK marks its resends), is its duplicate,
    #    and nothing new is written
    before = len(world.events())
    retry = await alice.send(GROUP, "g1", "from long ago", cmid=cmid, retry=True)
    assert (retry.message_id, retry.order_key, retry.duplicate) == (
        message_id, original.order_key, True,
    )  # fmt: skip
    # 3. the same id for another message is still a conflict
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await alice.send(GROUP, "g1", "something else", cmid=cmid, retry=True)
    assert reason_of(caught.value) is Reason.CLIENT_MESSAGE_ID_CONFLICT
    sends = [e for e in world.events()[before:] if isinstance(e.payload, MessageSent)]
    assert sends == []
