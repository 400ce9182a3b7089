"""Live delivery over real Kafka and real gRPC sessions: peer, group, room, command, recall."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from parley.adapters.tokens import TokenAuthority
from parley.gen.parley.v1 import common_pb2, ingress_pb2
from parley.gen.parley.v1 import delivery_pb2 as pb
from tests.integration.delivery.conftest import LiveStack, LiveStackFactory
from tests.integration.delivery.harness import SessionClient, connect
from tests.integration.ingress_harness import GROUP, PEER, ROOM

pytestmark = pytest.mark.integration


async def test_delivery__a_peer_message_reaches_both_sessions_of_the_recipient_once(
    live_stack: LiveStackFactory,
) -> None:
    live = await live_stack()
    alice = live.alice
    phone, laptop, sender = [await live.session(user) for user in ("bob", "bob", "alice")]
    # Alice sends two messages; each of Bob's sessions and Alice's own get both, in order.
    first = await alice.send(PEER, "bob", "one")
    second = await alice.send(PEER, "bob", "two")
    key = first.conversation_key
    for session in (phone, laptop, sender):
        await session.wait(lambda s: len(s.messages(key)) >= 2)
    for session in (phone, laptop):
        got = session.messages(key)
        assert [m.message.message_id for m in got] == [first.message_id, second.message_id]
        assert [m.message.seq for m in got] == [1, 2]
        assert [m.message.body.text.text for m in got] == ["one", "two"]
        assert all(m.live and m.conversation_type == PEER for m in got)
        assert got[0].message.sender_id == "alice" and got[0].order_key == first.order_key
    for session in (phone, laptop, sender):
        await session.close()


def text(n: int) -> common_pb2.MessageBody:
    return common_pb2.MessageBody(text=common_pb2.TextContent(text=f"m{n}"))


async def test_delivery__group_and_room_messages_fan_out_to_current_members_only(
    live_stack: LiveStackFactory,
) -> None:
    live = await live_stack(rate_per_second=1000)
    users = {name: await live.ingress.client(name) for name in ("ann", "ben", "cat", "dan")}
    sessions = {name: await connect(live.channel, name, c.token) for name, c in users.items()}
    ann = users["ann"]
    # A group of ann, ben and cat (not dan); a room ann and ben entered (not cat, not dan).
    await ann.groups.CreateGroup(
        ingress_pb2.CreateGroupRequest(group_id="g1", name="team", member_ids=["ben", "cat"]),
        metadata=ann.auth,
    )
    await ann.rooms.CreateRoom(ingress_pb2.CreateRoomRequest(room_id="r1"), metadata=ann.auth)
    ben = users["ben"]
    await ben.rooms.EnterRoom(ingress_pb2.RoomRequest(room_id="r1"), metadata=ben.auth)
    in_group = [await ann.send(GROUP, "g1", body=text(n)) for n in range(3)]
    in_room = await ann.send(ROOM, "r1", body=text(9))
    barrage = await ann.send(
        ROOM, "r1", body=common_pb2.MessageBody(barrage=common_pb2.BarrageContent(text="wow"))
    )
    for name in ("ann", "ben", "cat"):
        await sessions[name].wait(lambda s: len(s.messages("g:g1")) == 3)
        assert [m.message.seq for m in sessions[name].messages("g:g1")] == [1, 2, 3]
        got = [m.message.message_id for m in sessions[name].messages("g:g1")]
        assert got == [r.message_id for r in in_group]
    for name in ("ann", "ben"):
        await sessions[name].wait(lambda s: len(s.messages("r:r1")) == 2)
        room = sessions[name].messages("r:r1")
        # Barrage travels on the signals topic: it may overtake stored messages; it has no seq.
        seqs = {m.message.message_id: m.message.seq for m in room}
        assert seqs == {in_room.message_id: 1, barrage.message_id: 0}
    # Tips: ben saw the group created and his own room entry; dan and cat saw no room traffic.
    assert any(t.HasField("group_created") for t in sessions["ben"].of("tip"))
    assert any(t.HasField("room_entered") for t in sessions["ann"].of("tip"))
    await sessions["dan"].wait(lambda s: bool(s.of("synced")))
    assert not sessions["dan"].messages() and not sessions["cat"].messages("r:r1")
    for session in sessions.values():
        await session.close()


async def test_delivery__command_reaches_online_recipient_and_never_the_log(
    bob_online: tuple[LiveStack, SessionClient],
) -> None:
    live, session = bob_online
    alice = live.alice
    command = common_pb2.MessageBody(command=common_pb2.CommandContent(data=b"typing"))
    sent = await alice.send(PEER, "bob", body=command)
    await session.wait(lambda s: len(s.messages()) == 1)
    (got,) = session.messages()
    assert got.message.body.command.data == b"typing" and got.message.seq == 0
    assert got.message.type == common_pb2.MESSAGE_TYPE_COMMAND
    stored = [e.event_id for _, _, _, e in live.ingress.events()]
    assert sent.message_id not in stored  # only the signals topic carried it


async def test_delivery__recall_and_broadcast_reach_sessions(
    bob_online: tuple[LiveStack, SessionClient],
) -> None:
    live, session = bob_online
    alice = live.alice
    sent = await alice.send(PEER, "bob", "oops")
    await alice.messaging.RecallMessage(
        ingress_pb2.RecallMessageRequest(
            conversation=common_pb2.ConversationRef(type=PEER, id="bob"), message_id=sent.message_id
        ),
        metadata=alice.auth,
    )
    await live.ingress.admin.Broadcast(
        ingress_pb2.BroadcastRequest(client_message_id="b1", body=text(1)),
        metadata=live.ingress.admin_auth,
    )
    await session.wait(lambda s: bool(s.of("recall")) and bool(s.of("broadcast")))
    (recall,) = session.of("recall")
    assert (recall.message_id, recall.seq, recall.recalled_by) == (sent.message_id, 1, "alice")
    assert session.of("broadcast")[0].broadcast_sent.body.text.text == "m1"


async def test_delivery__forged_expired_and_missing_tokens_are_refused(
    live_stack: LiveStackFactory,
) -> None:
    live = await live_stack()
    forged = TokenAuthority("x" * 40).issue("bob")[0]
    expired = TokenAuthority(live.ingress.settings.token_secret).issue("bob", 10, now_s=1000)[0]
    for token, reason in ((forged, "1003"), (expired, "1002"), ("", "1001")):
        session = await connect(live.channel, "bob", token, synced=False)
        assert await session.wait_ended() == grpc.StatusCode.UNAUTHENTICATED
        assert dict(session.trailers)["parley-reason-code"] == reason
        assert not session.frames


async def test_delivery__token_expiry_is_announced_and_renewal_keeps_the_session(
    live_stack: LiveStackFactory,
) -> None:
    live = await live_stack(bob_ttl_s=2)
    alice, renewing, lapsing = live.alice, await live.session("bob"), await live.session("bob")
    # Both get the notice ahead of expiry; one renews with a fresh token on the same stream.
    for session in (renewing, lapsing):
        await session.wait(lambda s: bool(s.of("token_will_expire")))
    fresh = await live.ingress.client("bob", ttl_s=60)
    await renewing.send(pb.ClientFrame(renew_token=pb.RenewToken(token=fresh.token)))
    assert await lapsing.wait_ended() == grpc.StatusCode.UNAUTHENTICATED
    sent = await alice.send(PEER, "bob", "still here")
    await renewing.wait(
        lambda s: any(m.message.message_id == sent.message_id for m in s.messages())
    )
    assert renewing.status is None
    await renewing.close()


async def test_delivery__a_session_that_stops_reading_is_cut_off_without_slowing_others(
    live_stack: LiveStackFactory,
) -> None:
    live = await live_stack(rate_per_second=10_000)
    alice, bob = live.alice, live.bob
    # The stalled session, on its own connection, reads nothing once connected.
    stalled_channel = grpc.aio.insecure_channel(f"127.0.0.1:{live.delivery.port}")
    stalled = await connect(stalled_channel, "bob", bob.token, synced=False)
    assert stalled.reader is not None
    stalled.reader.cancel()
    healthy = await live.session("bob")
    big = "x" * 30_000
    sent: list[ingress_pb2.SendMessageResponse] = []
    # ~7.5 MB in all, sent ten at a time (300 KB, under the 1 MB outbox) and each ten read by the
    # healthy session before the next: it stands for a client that keeps up, so a cut-off can
    # only mean the stalled one slowed it. All at once, a test process busy sending read too
    # slowly itself on a loaded machine and was cut off too.
    for _ in range(25):
        sent += [await alice.send(PEER, "bob", big) for _ in range(10)]
        count = len(sent)
        await healthy.wait(lambda s, count=count: len(s.messages()) == count, timeout_s=30)
    assert [m.message.seq for m in healthy.messages()] == list(range(1, len(sent) + 1))
    # The stalled stream ends RESOURCE_EXHAUSTED with the resync trailer once it reads again.
    with pytest.raises(grpc.aio.AioRpcError) as ended:
        async with asyncio.timeout(15):
            async for _ in stalled.call:
                pass
    assert ended.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert dict(ended.value.trailing_metadata())["parley-resync"] == "1"
    await healthy.close()
    await stalled_channel.close()
