"""The send pipeline over a real gRPC server and real Kafka: topics, order, payloads, retries."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from parley.domain.events import (
    BarrageContent,
    CommandContent,
    CustomContent,
    GroupCreated,
    MessageRecalled,
    MessageSent,
    RoomCreated,
    TextContent,
)
from parley.gen.parley.v1 import common_pb2, ingress_pb2
from tests.integration.ingress_harness import GROUP, PEER, ROOM, Ingress, IngressFactory

pytestmark = pytest.mark.integration


def body(kind: str, n: int) -> common_pb2.MessageBody:
    if kind == "text":
        return common_pb2.MessageBody(text=common_pb2.TextContent(text=f"text {n}"))
    if kind == "custom":
        return common_pb2.MessageBody(
            custom=common_pb2.CustomContent(
                sub_type=7, data=f'{{"n": {n}}}', searchable_content=f"poll {n}"
            )
        )
    if kind == "command":
        return common_pb2.MessageBody(command=common_pb2.CommandContent(data=f"cmd {n}".encode()))
    return common_pb2.MessageBody(barrage=common_pb2.BarrageContent(text=f"barrage {n}"))


async def test_ingress__each_type_to_each_conversation_lands_on_its_topic_in_order(
    ingress_factory: IngressFactory,
) -> None:
    ingress = await ingress_factory(rate_per_second=1000)
    alice, bob = await ingress.client("alice"), await ingress.client("bob")
    group = await alice.groups.CreateGroup(
        ingress_pb2.CreateGroupRequest(group_id="g1", name="team", member_ids=["bob"]),
        metadata=alice.auth,
    )
    room = await alice.rooms.CreateRoom(
        ingress_pb2.CreateRoomRequest(room_id="r1", name="live"), metadata=alice.auth
    )
    await bob.rooms.EnterRoom(ingress_pb2.RoomRequest(room_id="r1"), metadata=bob.auth)
    plan = [
        (PEER, "bob", ["text", "custom", "command", "text"]),
        (GROUP, group.group_id, ["text", "custom", "command", "text"]),
        (ROOM, room.room_id, ["text", "custom", "command", "barrage", "text"]),
    ]
    sent: dict[str, list[tuple[str, int]]] = {}
    for type_, target, kinds in plan:
        for n, kind in enumerate(kinds):
            reply = await alice.send(
                type_, target, body=body(kind, n), ext={"k": str(n)}, priority=2
            )
            sent.setdefault(reply.conversation_key, []).append((kind, n))
            assert reply.message_id.startswith("m_")

    stored = [e for _, _, _, e in ingress.events()]
    signals = [e for _, _, _, e in ingress.events(ingress.topics.signals)]
    for key, messages in sent.items():
        durable = [
            e.payload
            for e in stored
            if e.conversation_key == key and isinstance(e.payload, MessageSent)
        ]
        ephemeral = [
            e.payload
            for e in signals
            if e.conversation_key == key and isinstance(e.payload, MessageSent)
        ]
        expected_durable = [(k, n) for k, n in messages if k in ("text", "custom")]
        expected_signals = [(k, n) for k, n in messages if k in ("command", "barrage")]
        assert [describe(p.content) for p in durable] == expected_durable
        assert [describe(p.content) for p in ephemeral] == expected_signals
        assert all(
            p.ext == (("k", str(n)),) for p, (_, n) in zip(durable, expected_durable, strict=True)
        )
        assert all(p.priority == 2 for p in durable)
    # Membership events are on the log too, keyed by their conversation.
    assert any(isinstance(e.payload, GroupCreated) and e.conversation_key == "g:g1" for e in stored)
    assert any(isinstance(e.payload, RoomCreated) and e.conversation_key == "r:r1" for e in stored)
    # The peer message records its recipient; every event names its actor and time.
    peer = next(e for e in stored if e.conversation_key == "p:alice:bob")
    assert isinstance(peer.payload, MessageSent) and peer.payload.recipient_id == "bob"
    assert peer.actor == "alice" and peer.server_time_ms > 0 and peer.client_message_id


def describe(content: object) -> tuple[str, int]:
    if isinstance(content, TextContent):
        return ("text", int(content.text.split()[-1]))
    if isinstance(content, CustomContent):
        return ("custom", int(content.searchable_content.split()[-1]))
    if isinstance(content, CommandContent):
        return ("command", int(content.data.decode().split()[-1]))
    assert isinstance(content, BarrageContent)
    return ("barrage", int(content.text.split()[-1]))


async def test_ingress__order_keys_grow_within_a_conversation(
    ingress_factory: IngressFactory,
) -> None:
    ingress = await ingress_factory(rate_per_second=1000)
    alice = await ingress.client("alice")
    keys = [(await alice.send(PEER, "carol", text=f"m{i}")).order_key for i in range(20)]
    assert keys == sorted(keys) and len(set(keys)) == 20
    offsets = [o for _, o, key, _ in ingress.events() if key == b"p:alice:carol"]
    assert offsets == keys


async def test_ingress__retried_send_is_one_message(ingress_factory: IngressFactory) -> None:
    first = await ingress_factory()
    alice = await first.client("alice")
    cmid = uuid.uuid4().hex
    original = await alice.send(PEER, "bob", text="once", cmid=cmid)
    retry = await alice.send(PEER, "bob", text="once", cmid=cmid)
    assert retry.duplicate and not original.duplicate
    assert (retry.message_id, retry.order_key) == (original.message_id, original.order_key)
    # A second ingress process (fresh state, same log) answers the retry the same way.
    second = await ingress_factory(topics=first.topics)
    alice_elsewhere = await second.client("alice")
    again = await alice_elsewhere.send(PEER, "bob", text="once", cmid=cmid)
    assert again.duplicate and again.order_key == original.order_key
    status = await alice_elsewhere.messaging.GetSendStatus(
        ingress_pb2.GetSendStatusRequest(client_message_id=cmid), metadata=alice_elsewhere.auth
    )
    assert status.status == ingress_pb2.SEND_STATUS_ACCEPTED
    assert status.message_id == original.message_id
    sends = [e for _, _, _, e in first.events() if isinstance(e.payload, MessageSent)]
    assert [e.payload.message_id for e in sends] == [original.message_id]


async def test_ingress__unknown_send_status_for_a_never_accepted_id(ingress: Ingress) -> None:
    alice = await ingress.client("alice")
    status = await alice.messaging.GetSendStatus(
        ingress_pb2.GetSendStatusRequest(client_message_id="never-sent"), metadata=alice.auth
    )
    assert status.status == ingress_pb2.SEND_STATUS_UNKNOWN


async def test_ingress__stream_sends_answer_each_request(ingress: Ingress) -> None:
    alice = await ingress.client("alice")
    cmids = [uuid.uuid4().hex for _ in range(8)]

    async def requests() -> AsyncIterator[ingress_pb2.SendMessageRequest]:
        for i, cmid in enumerate(cmids):
            yield ingress_pb2.SendMessageRequest(
                conversation=common_pb2.ConversationRef(type=PEER, id="alice" if i == 3 else "bob"),
                client_message_id=cmid,
                body=common_pb2.MessageBody(text=common_pb2.TextContent(text=f"s{i}")),
            )

    results = [r async for r in alice.messaging.SendMessageStream(requests(), metadata=alice.auth)]
    assert sorted(r.client_message_id for r in results) == sorted(cmids)
    rejected = [r for r in results if r.WhichOneof("outcome") == "rejected"]
    assert [r.client_message_id for r in rejected] == [cmids[3]]
    assert rejected[0].rejected.reason == common_pb2.SEND_TO_SELF
    sends = [e.payload for _, _, _, e in ingress.events() if isinstance(e.payload, MessageSent)]
    texts = [p.content.text for p in sends if isinstance(p.content, TextContent)]
    assert texts == [f"s{i}" for i in range(8) if i != 3]


async def test_ingress__recall_is_an_event_after_its_message(ingress: Ingress) -> None:
    alice = await ingress.client("alice")
    sent = await alice.send(PEER, "bob", text="oops")
    reply = await alice.messaging.RecallMessage(
        ingress_pb2.RecallMessageRequest(
            conversation=common_pb2.ConversationRef(type=PEER, id="bob"), message_id=sent.message_id
        ),
        metadata=alice.auth,
    )
    assert reply.order_key > sent.order_key
    recalls = [e for _, _, _, e in ingress.events() if isinstance(e.payload, MessageRecalled)]
    assert [r.payload.message_id for r in recalls] == [sent.message_id]  # type: ignore[union-attr]
