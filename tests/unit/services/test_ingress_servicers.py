"""Ingress servicers through an in-process gRPC server on port 0, over the in-memory log fakes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import grpc
import pytest

from parley.adapters.memory import InMemoryEventLog
from parley.domain.events import Event, GroupCreated, Position, RoomCreated
from parley.gen.parley.v1 import events_pb2, ingress_pb2, ingress_pb2_grpc
from tests.unit.services.ingress_harness import Harness, reason_code, serving, text_to


@pytest.fixture
async def harness() -> AsyncIterator[Harness]:
    async with serving(InMemoryEventLog()) as served:
        yield served


async def test_ingress_servicers__send_then_retry_is_one_event(harness: Harness) -> None:
    messaging = ingress_pb2_grpc.MessagingServiceStub(harness.channel)
    auth = await harness.token("alice")
    first = await messaging.SendMessage(text_to("bob", "c1"), metadata=auth)
    retry = await messaging.SendMessage(text_to("bob", "c1"), metadata=auth)
    assert (retry.message_id, retry.order_key, retry.duplicate) == (
        first.message_id,
        first.order_key,
        True,
    )
    assert [s.message_id for s in harness.sends()] == [first.message_id]


async def test_ingress_servicers__rejection_carries_its_reason_and_writes_nothing(
    harness: Harness,
) -> None:
    messaging = ingress_pb2_grpc.MessagingServiceStub(harness.channel)
    auth = await harness.token("alice")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await messaging.SendMessage(text_to("alice", "c2"), metadata=auth)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert dict(caught.value.trailing_metadata() or ())["parley-reason-code"] == "2002"
    assert harness.records() == []


async def test_ingress_servicers__unavailable_log_fails_the_send(harness: Harness) -> None:
    messaging = ingress_pb2_grpc.MessagingServiceStub(harness.channel)
    auth = await harness.token("alice")
    harness.log.available = False
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await messaging.SendMessage(text_to("bob", "c3"), metadata=auth)
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    harness.log.available = True
    reply = await messaging.SendMessage(text_to("bob", "c3"), metadata=auth)
    assert not reply.duplicate and len(harness.sends()) == 1


async def test_ingress_servicers__missing_token_is_refused_first(harness: Harness) -> None:
    messaging = ingress_pb2_grpc.MessagingServiceStub(harness.channel)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await messaging.SendMessage(text_to("bob", "c4"))
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert harness.records() == []


class FailingOnce(InMemoryEventLog):
    """An event log whose second append fails with an error nobody planned for."""

    def __init__(self) -> None:
        super().__init__()
        self.appends = 0

    async def append(self, event: Event, topic: str | None = None) -> Position:
        self.appends += 1
        if self.appends == 2:
            raise RuntimeError("the disk caught fire")
        return await super().append(event, topic)


async def test_ingress_servicers__a_stream_never_drops_a_request_on_an_unexpected_error() -> None:
    """Every request of a SendMessageStream gets its result, or the call ends with an error:
    an unexpected failure of one send must not leave the client waiting for it."""
    async with serving(FailingOnce()) as served:
        auth = await served.token("alice")
        messaging = ingress_pb2_grpc.MessagingServiceStub(served.channel)

        async def requests() -> AsyncIterator[ingress_pb2.SendMessageRequest]:
            for n in range(3):
                yield text_to("bob", f"c{n}")

        answered: list[str] = []
        with pytest.raises(grpc.aio.AioRpcError) as failed:
            async with asyncio.timeout(10):
                async for result in messaging.SendMessageStream(requests(), metadata=auth):
                    answered.append(result.client_message_id)
        assert failed.value.code() is grpc.StatusCode.INTERNAL
        assert "c1" not in answered  # the failed send was never answered as accepted


async def test_ingress_servicers__admin_creates_groups_and_rooms_for_the_users_it_names(
    harness: Harness,
) -> None:
    admin = ingress_pb2_grpc.AdminServiceStub(harness.channel)
    as_admin = (("authorization", f"Bearer {harness.settings.admin_secret}"),)
    group = ingress_pb2.CreateGroupRequest(group_id="team", name="Team", member_ids=["bob"])
    created = await admin.CreateGroupAs(
        ingress_pb2.CreateGroupAsRequest(owner_id="alice", group=group), metadata=as_admin
    )
    room = await admin.CreateRoomAs(
        ingress_pb2.CreateRoomAsRequest(creator_id="carol", room=ingress_pb2.CreateRoomRequest()),
        metadata=as_admin,
    )
    assert created.group_id == "team" and room.room_id.startswith("room")
    written = {(r.event.actor, r.event.payload) for r in harness.records()}
    assert written == {
        ("alice", GroupCreated("team", "Team", "alice", ("bob",))),
        ("carol", RoomCreated(room.room_id, "")),
    }
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await admin.CreateGroupAs(ingress_pb2.CreateGroupAsRequest(group=group), metadata=as_admin)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert len(harness.records()) == 2


async def test_ingress_servicers__an_unknown_ack_kind_is_a_bad_parameter(harness: Harness) -> None:
    """An ack kind this server does not know is refused, never taken for a delivered ack."""
    sent = await ingress_pb2_grpc.MessagingServiceStub(harness.channel).SendMessage(
        text_to("alice", "c1"), metadata=await harness.token("bob")
    )
    alice = ingress_pb2_grpc.MessagingServiceStub(harness.channel)
    ack = ingress_pb2.AcknowledgeMessageRequest(
        conversation=text_to("bob", "-").conversation,
        message_id=sent.message_id,
        kind=ingress_pb2.AckKind.ValueType(7),
    )
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await alice.AcknowledgeMessage(ack, metadata=await harness.token("alice"))
    assert (caught.value.code(), reason_code(caught.value)) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "2001",
    )
    assert len(harness.records()) == 1  # the send only


@pytest.mark.parametrize(
    "role",
    [events_pb2.GROUP_ROLE_OWNER, events_pb2.GroupRole.ValueType(7)],
    ids=["owner", "unknown"],
)
async def test_ingress_servicers__a_role_other_than_member_or_admin_is_a_bad_parameter(
    harness: Harness, role: events_pb2.GroupRole.ValueType
) -> None:
    """Ownership is not handed over by SetGroupMemberRole, and an unknown role is no demotion."""
    groups = ingress_pb2_grpc.GroupServiceStub(harness.channel)
    auth = await harness.token("alice")
    group = ingress_pb2.CreateGroupRequest(group_id="team", name="Team", member_ids=["bob"])
    await groups.CreateGroup(group, metadata=auth)
    change = ingress_pb2.SetGroupMemberRoleRequest(group_id="team", user_id="bob", role=role)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await groups.SetGroupMemberRole(change, metadata=auth)
    assert (caught.value.code(), reason_code(caught.value)) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "2001",
    )
    assert len(harness.records()) == 1  # the creation only
