"""Every rejection of the ingress: its documented code, its gRPC status, and nothing written."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import grpc
import jwt
import pytest
from google.rpc import error_details_pb2, status_pb2

from parley.config import DEV_TOKEN_SECRET
from parley.domain.errors import REASONS, Reason
from parley.domain.events import MessageSent, TextContent
from parley.gen.parley.v1 import common_pb2, ingress_pb2
from tests.integration.ingress_harness import GROUP, PEER, ROOM, Client, Ingress, IngressFactory

pytestmark = pytest.mark.integration


def reason_of(error: grpc.aio.AioRpcError) -> Reason:
    """Reads the code the documented way: google.rpc.Status details, checked against the trailer."""
    trailers = dict(error.trailing_metadata() or ())
    status = status_pb2.Status.FromString(trailers["grpc-status-details-bin"])
    info = error_details_pb2.ErrorInfo()
    assert status.details[0].Unpack(info) and info.domain == "parley"
    assert trailers["parley-reason-code"] == info.metadata["code"]
    reason = Reason(int(info.metadata["code"]))
    assert info.reason == reason.name
    assert error.code() == grpc.StatusCode[REASONS[reason].status]
    return reason


async def rejected_with(call: Awaitable[Any], case: object = "") -> Reason:
    try:
        await call
    except grpc.aio.AioRpcError as error:
        return reason_of(error)
    raise AssertionError(f"accepted, but should have been rejected: {case}")


def text(n: int) -> common_pb2.MessageBody:
    return common_pb2.MessageBody(text=common_pb2.TextContent(text="x" * n))


def ref(type_: common_pb2.ConversationType.ValueType, target: str) -> common_pb2.ConversationRef:
    return common_pb2.ConversationRef(type=type_, id=target)


async def setup_world(ingress: Ingress) -> dict[str, Client]:
    """alice owns g1 (bob member, carol muted, dave outsider) and r1; erin blocked alice."""
    users = {name: await ingress.client(name) for name in ("alice", "bob", "carol", "dave", "erin")}
    alice = users["alice"]
    await alice.groups.CreateGroup(
        ingress_pb2.CreateGroupRequest(group_id="g1", name="g", member_ids=["bob", "carol"]),
        metadata=alice.auth,
    )
    await alice.groups.MuteGroupMember(
        ingress_pb2.MuteGroupMemberRequest(group_id="g1", user_id="carol", duration_s=-1),
        metadata=alice.auth,
    )
    await alice.groups.CreateGroup(
        ingress_pb2.CreateGroupRequest(group_id="gone", name="g", member_ids=["bob"]),
        metadata=alice.auth,
    )
    await alice.groups.DismissGroup(ingress_pb2.GroupRequest(group_id="gone"), metadata=alice.auth)
    await alice.groups.CreateGroup(
        ingress_pb2.CreateGroupRequest(group_id="quiet", name="g", member_ids=["bob"]),
        metadata=alice.auth,
    )
    await alice.groups.MuteGroup(
        ingress_pb2.MuteGroupRequest(group_id="quiet", duration_s=-1), metadata=alice.auth
    )
    await alice.groups.CreateGroup(
        ingress_pb2.CreateGroupRequest(group_id="vip", name="g", member_ids=["bob"]),
        metadata=alice.auth,
    )
    await alice.groups.UpdateGroupWhitelist(
        ingress_pb2.UpdateGroupWhitelistRequest(group_id="vip", whitelist_only=True),
        metadata=alice.auth,
    )
    await alice.rooms.CreateRoom(ingress_pb2.CreateRoomRequest(room_id="r1"), metadata=alice.auth)
    await users["erin"].contacts.BlockUser(
        ingress_pb2.BlockUserRequest(user_id="alice"), metadata=users["erin"].auth
    )
    return users


async def test_rejections__each_case_has_its_code_and_writes_nothing(
    ingress_factory: IngressFactory, tmp_path: Path
) -> None:
    words = tmp_path / "words.txt"
    words.write_text("# test list\nforbidden\n")
    ingress = await ingress_factory(sensitive_words_file=words, rate_per_second=1000)
    users = await setup_world(ingress)
    alice, bob, carol, dave = (users[n] for n in ("alice", "bob", "carol", "dave"))
    before = len(ingress.events()) + len(ingress.events(ingress.topics.signals))
    sent = await alice.send(PEER, "bob", text="recall me later")
    barrage = common_pb2.MessageBody(barrage=common_pb2.BarrageContent(text="b"))

    cases: list[tuple[Reason, Callable[[], Awaitable[Any]]]] = [
        (Reason.SEND_TO_SELF, lambda: alice.send(PEER, "alice")),
        (Reason.BAD_PARAMETER, lambda: alice.send(PEER, "bad id!")),
        (Reason.BAD_PARAMETER, lambda: alice.send(PEER, "bob", cmid="")),
        (Reason.BAD_PARAMETER, lambda: alice.send(PEER, "bob", body=common_pb2.MessageBody())),
        (Reason.MESSAGE_TOO_LARGE, lambda: alice.send(PEER, "bob", body=text(32 * 1024 + 1))),
        (
            Reason.TOO_MANY_MENTIONS,
            lambda: alice.send(GROUP, "g1", mentioned_user_ids=[f"u{i}" for i in range(51)]),
        ),
        (Reason.TYPE_NOT_ALLOWED, lambda: alice.send(PEER, "bob", body=barrage)),
        (Reason.NOT_A_MEMBER, lambda: dave.send(GROUP, "g1")),
        (Reason.NOT_A_MEMBER, lambda: bob.send(ROOM, "r1")),
        (Reason.GROUP_NOT_FOUND, lambda: alice.send(GROUP, "nope")),
        (Reason.GROUP_DISMISSED, lambda: bob.send(GROUP, "gone")),
        (Reason.ROOM_NOT_FOUND, lambda: alice.send(ROOM, "nope")),
        (Reason.BLOCKED_BY_PEER, lambda: alice.send(PEER, "erin")),
        (Reason.MUTED, lambda: carol.send(GROUP, "g1")),
        (Reason.MUTED, lambda: bob.send(GROUP, "quiet")),
        (Reason.NOT_ON_WHITELIST, lambda: bob.send(GROUP, "vip")),
        (Reason.SENSITIVE_WORD, lambda: alice.send(PEER, "bob", text="a Forbidden word")),
        (
            Reason.CLIENT_MESSAGE_ID_CONFLICT,
            lambda: alice.send(PEER, "bob", text="other text", cmid=sent_cmid),
        ),
        (
            Reason.NOT_GROUP_ADMIN,
            lambda: bob.groups.AddGroupMembers(
                ingress_pb2.GroupMembersRequest(group_id="g1", user_ids=["dave"]), metadata=bob.auth
            ),
        ),
        (
            Reason.NOT_GROUP_OWNER,
            lambda: bob.groups.DismissGroup(
                ingress_pb2.GroupRequest(group_id="g1"), metadata=bob.auth
            ),
        ),
        (
            Reason.ALREADY_EXISTS,
            lambda: bob.groups.CreateGroup(
                ingress_pb2.CreateGroupRequest(group_id="g1"), metadata=bob.auth
            ),
        ),
        (
            Reason.RECALL_NOT_PERMITTED,
            lambda: bob.messaging.RecallMessage(
                ingress_pb2.RecallMessageRequest(
                    conversation=ref(PEER, "alice"), message_id=sent.message_id
                ),
                metadata=bob.auth,
            ),
        ),
        (
            Reason.MESSAGE_NOT_FOUND,
            lambda: alice.messaging.RecallMessage(
                ingress_pb2.RecallMessageRequest(
                    conversation=ref(PEER, "bob"), message_id="m_nothing"
                ),
                metadata=alice.auth,
            ),
        ),
        (
            Reason.TOKEN_MISSING,
            lambda: alice.messaging.SendMessage(
                ingress_pb2.SendMessageRequest(conversation=ref(PEER, "bob"), client_message_id="t")
            ),
        ),
        (
            Reason.TOKEN_INVALID,
            lambda: alice.messaging.SendMessage(
                ingress_pb2.SendMessageRequest(
                    conversation=ref(PEER, "bob"), client_message_id="t"
                ),
                metadata=(("authorization", "Bearer not-a-jwt"),),
            ),
        ),
        (
            Reason.TOKEN_INVALID,
            lambda: alice.messaging.SendMessage(
                ingress_pb2.SendMessageRequest(
                    conversation=ref(PEER, "bob"), client_message_id="t"
                ),
                metadata=(("authorization", f"Bearer {forged}"),),
            ),
        ),
        (
            Reason.TOKEN_EXPIRED,
            lambda: alice.messaging.SendMessage(
                ingress_pb2.SendMessageRequest(
                    conversation=ref(PEER, "bob"), client_message_id="t"
                ),
                metadata=(("authorization", f"Bearer {expired}"),),
            ),
        ),
        (
            Reason.ADMIN_CREDENTIAL_REQUIRED,
            lambda: ingress.admin.IssueToken(
                ingress_pb2.IssueTokenRequest(user_id="mallory"), metadata=alice.auth
            ),
        ),
    ]
    sent_cmid = sent_cmid_of(ingress, sent.message_id)
    now = int(time.time())
    forged = jwt.encode({"sub": "alice", "iss": "parley", "exp": now + 600}, "x" * 40, "HS256")
    expired = jwt.encode(
        {"sub": "alice", "iss": "parley", "exp": now - 60}, DEV_TOKEN_SECRET, "HS256"
    )

    seen = {}
    for index, (expected, call) in enumerate(cases):
        seen[index] = await rejected_with(call(), (index, expected))
        assert seen[index] == expected, f"case {index}"

    # Only the one accepted send was written: every rejection left the log untouched.
    after = len(ingress.events()) + len(ingress.events(ingress.topics.signals))
    assert after == before + 1


async def test_rejections__every_send_requires_a_client_message_id(ingress: Ingress) -> None:
    alice = await ingress.client("alice")
    no_id = ingress_pb2.SendMessageRequest(conversation=ref(PEER, "bob"), body=text(2))
    admin = ingress.admin_auth

    async def one_stream_result() -> ingress_pb2.SendMessageResult:
        async def requests() -> AsyncIterator[ingress_pb2.SendMessageRequest]:
            yield no_id

        call = alice.messaging.SendMessageStream(requests(), metadata=alice.auth)
        results: list[ingress_pb2.SendMessageResult] = [r async for r in call]
        assert len(results) == 1
        return results[0]

    unary: list[Callable[[], Awaitable[Any]]] = [
        lambda: alice.messaging.SendMessage(no_id, metadata=alice.auth),
        lambda: ingress.admin.SendMessageAs(
            ingress_pb2.SendMessageAsRequest(sender_id="alice", message=no_id), metadata=admin
        ),
        lambda: ingress.admin.Broadcast(ingress_pb2.BroadcastRequest(body=text(2)), metadata=admin),
    ]
    # Each kind of send without an id, twice as a retrying client would send it.
    for _ in range(2):
        for call in unary:
            assert await rejected_with(call()) == Reason.BAD_PARAMETER
        result = await one_stream_result()
        assert result.rejected.reason == common_pb2.BAD_PARAMETER
        assert result.rejected.grpc_status_code == grpc.StatusCode.INVALID_ARGUMENT.value[0]
    # Nothing reached Kafka: no message, no signal, no broadcast.
    assert all(not ingress.events(topic) for topic in ingress.topics.all())


def sent_cmid_of(ingress: Ingress, message_id: str) -> str:
    events = [e for _, _, _, e in ingress.events() if e.event_id == message_id]
    return events[0].client_message_id


async def test_rejections__recall_after_the_window(ingress_factory: IngressFactory) -> None:
    ingress = await ingress_factory(recall_window_s=0)
    alice = await ingress.client("alice")
    sent = await alice.send(PEER, "bob")
    reason = await rejected_with(
        alice.messaging.RecallMessage(
            ingress_pb2.RecallMessageRequest(
                conversation=ref(PEER, "bob"), message_id=sent.message_id
            ),
            metadata=alice.auth,
        )
    )
    assert reason == Reason.RECALL_WINDOW_EXPIRED


async def test_rejections__recall_twice(ingress: Ingress) -> None:
    alice = await ingress.client("alice")
    sent = await alice.send(PEER, "bob")
    recall = ingress_pb2.RecallMessageRequest(
        conversation=ref(PEER, "bob"), message_id=sent.message_id
    )
    await alice.messaging.RecallMessage(recall, metadata=alice.auth)
    assert await rejected_with(alice.messaging.RecallMessage(recall, metadata=alice.auth)) == (
        Reason.ALREADY_RECALLED
    )


async def test_rejections__rate_limit_allows_ten_per_second_then_rejects(ingress: Ingress) -> None:
    alice = await ingress.client("alice")
    # Fifteen sends within a few milliseconds: the bucket holds ten.
    outcomes = await asyncio.gather(
        *(alice.send(PEER, "bob", text=f"{i}") for i in range(15)), return_exceptions=True
    )
    rejected = [o for o in outcomes if isinstance(o, grpc.aio.AioRpcError)]
    assert 10 <= len(outcomes) - len(rejected) <= 11
    assert {reason_of(error) for error in rejected} == {Reason.RATE_LIMITED}
    # Barrage is not rate limited.
    await alice.rooms.CreateRoom(ingress_pb2.CreateRoomRequest(room_id="live"), metadata=alice.auth)
    barrage = common_pb2.MessageBody(barrage=common_pb2.BarrageContent(text="b"))
    for _ in range(30):
        await alice.send(ROOM, "live", body=barrage)
    assert len([e for e in ingress.events(ingress.topics.signals)]) == 30


async def test_rejections__masking_mode_rewrites_instead(
    ingress_factory: IngressFactory, tmp_path: Path
) -> None:
    words = tmp_path / "words.txt"
    words.write_text("darn\n")
    ingress = await ingress_factory(sensitive_words_file=words, sensitive_word_mode="mask")
    alice = await ingress.client("alice")
    reply = await alice.send(PEER, "bob", text="oh DARN it", cmid=uuid.uuid4().hex)
    assert reply.masked
    stored = [e for _, _, _, e in ingress.events() if e.event_id == reply.message_id]
    payload = stored[0].payload
    assert isinstance(payload, MessageSent) and isinstance(payload.content, TextContent)
    assert payload.content.text == "oh **** it"
