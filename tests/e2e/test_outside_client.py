"""What an outside integrator meets first, with stubs generated from protos/ only (no SDK):
inboxes from the first message, faithful forwards, reads that see their own writes, and
conversation names and codes a client can act on."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import grpc
import pytest

from parley.gen.parley.v1 import (
    common_pb2,
    ingress_pb2,
    ingress_pb2_grpc,
    query_pb2,
    query_pb2_grpc,
)
from tests.e2e.stack import Stack
from tests.e2e.waiting import eventually

pytestmark = pytest.mark.integration

PEER, GROUP = common_pb2.CONVERSATION_TYPE_PEER, common_pb2.CONVERSATION_TYPE_GROUP


@dataclass
class Raw:
    """One user's generated stubs over one channel, as a non-SDK client would hold them."""

    user: str
    metadata: tuple[tuple[str, str], ...]
    messaging: ingress_pb2_grpc.MessagingServiceStub
    groups: ingress_pb2_grpc.GroupServiceStub
    history: query_pb2_grpc.HistoryServiceStub
    conversations: query_pb2_grpc.ConversationServiceStub

    async def send(self, type_: Any, to: str, text: str) -> ingress_pb2.SendMessageResponse:
        return await self.send_body(
            type_, to, common_pb2.MessageBody(text=common_pb2.TextContent(text=text))
        )

    async def send_body(
        self, type_: Any, to: str, body: common_pb2.MessageBody
    ) -> ingress_pb2.SendMessageResponse:
        request = ingress_pb2.SendMessageRequest(
            conversation=ref(type_, to), client_message_id=uuid.uuid4().hex, body=body
        )
        reply: ingress_pb2.SendMessageResponse = await self.messaging.SendMessage(
            request, metadata=self.metadata
        )
        return reply

    async def summaries(self) -> dict[str, query_pb2.ConversationSummary]:
        listed = await self.conversations.ListConversations(
            query_pb2.ListConversationsRequest(), metadata=self.metadata
        )
        return {s.conversation_key: s for s in listed.conversations}

    async def total(self) -> int:
        reply = await self.conversations.GetUnreadTotal(
            query_pb2.GetUnreadTotalRequest(), metadata=self.metadata
        )
        return int(reply.unread_total)


def ref(type_: Any, id_: str) -> common_pb2.ConversationRef:
    return common_pb2.ConversationRef(type=type_, id=id_)


def unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:6]}"


def reason_of(error: grpc.aio.AioRpcError) -> int:
    trailers = dict(error.trailing_metadata() or ())
    return int(trailers.get("parley-reason-code", 0))


@pytest.fixture
async def raw(shared_stack: Stack) -> AsyncIterator[Any]:
    channel = grpc.aio.insecure_channel(shared_stack.ingress)
    admin = ingress_pb2_grpc.AdminServiceStub(channel)
    admin_md = (("authorization", f"Bearer {shared_stack.admin_secret}"),)

    async def as_user(user: str) -> Raw:
        issued = await admin.IssueToken(
            ingress_pb2.IssueTokenRequest(user_id=user), metadata=admin_md
        )
        return Raw(
            user,
            (("authorization", f"Bearer {issued.token}"),),
            ingress_pb2_grpc.MessagingServiceStub(channel),
            ingress_pb2_grpc.GroupServiceStub(channel),
            query_pb2_grpc.HistoryServiceStub(channel),
            query_pb2_grpc.ConversationServiceStub(channel),
        )

    yield as_user
    await channel.close()


async def test_inbox__every_member_lists_the_conversation_from_the_first_message(
    raw: Any,
) -> None:
    alice, bob, carol = [await raw(unique(name)) for name in ("alice", "bob", "carol")]
    # Alice writes to bob, and to a group with bob and carol; nobody acks, reads or replies.
    peer = await alice.send(PEER, bob.user, "hi bob")
    group_id = unique("team")
    await alice.groups.CreateGroup(
        ingress_pb2.CreateGroupRequest(
            group_id=group_id, name="Team", member_ids=[bob.user, carol.user]
        ),
        metadata=alice.metadata,
    )
    await alice.send(GROUP, group_id, "hi team")
    group_key = f"g:{group_id}"

    # Bob's inbox shows both with their unread counts, his total counts both.
    rows = await eventually(
        bob.summaries, lambda r: r.get(peer.conversation_key, None) is not None
        and r.get(group_key) is not None and r[group_key].last_seq == 1
    )  # fmt: skip
    assert rows[peer.conversation_key].unread_count == 1
    assert rows[peer.conversation_key].conversation.id == alice.user
    assert rows[group_key].unread_count == 1 and rows[group_key].name == "Team"
    one = await bob.conversations.GetConversation(
        query_pb2.GetConversationRequest(conversation=ref(PEER, alice.user)), metadata=bob.metadata
    )
    assert one.unread_count == 1 and one.last_preview == "hi bob"
    assert await bob.total() == 2
    carol_rows = await eventually(carol.summaries, lambda r: r.get(group_key, None) is not None)
    assert carol_rows[group_key].unread_count == 1 and await carol.total() == 1
    # The sender's own row counts nothing unread.
    assert (await alice.summaries())[peer.conversation_key].unread_count == 0


async def test_forward__a_merged_forward_cannot_misquote_the_original(raw: Any) -> None:
    alice, bob, carol = [await raw(unique(name)) for name in ("alice", "bob", "carol")]
    said = await carol.send(PEER, alice.user, "I will pay you 10")

    def combine(text: str) -> common_pb2.MessageBody:
        quoted = common_pb2.ForwardedMessage(
            message_id=said.message_id,
            sender_id=carol.user,
            type=common_pb2.MESSAGE_TYPE_TEXT,
            body=common_pb2.MessageBody(text=common_pb2.TextContent(text=text)),
        )
        return common_pb2.MessageBody(
            combine=common_pb2.CombineContent(title="from carol", messages=[quoted])
        )

    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await alice.send_body(PEER, bob.user, combine("I will pay you 1000"))
    assert refused.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert reason_of(refused.value) == 2001
    # The faithful quote goes through and bob's history shows carol's own words.
    await alice.send_body(PEER, bob.user, combine("I will pay you 10"))
    page = await bob.history.GetHistory(
        query_pb2.GetHistoryRequest(conversation=ref(PEER, alice.user)), metadata=bob.metadata
    )
    (stored,) = page.messages
    (quoted,) = stored.body.combine.messages
    assert (quoted.sender_id, quoted.body.text.text) == (carol.user, "I will pay you 10")


async def test_read_your_writes__a_new_group_and_a_first_message_are_readable_at_once(
    raw: Any,
) -> None:
    for _ in range(5):  # the projector's lag makes a single try a coin toss without the fence
        alice, bob = await raw(unique("alice")), await raw(unique("bob"))
        group_id = unique("team")
        await alice.groups.CreateGroup(
            ingress_pb2.CreateGroupRequest(group_id=group_id, name="Lunch", member_ids=[bob.user]),
            metadata=alice.metadata,
        )
        # Opened at once, as `parley chat` does after /group: no NOT_A_MEMBER.
        opened = await alice.history.GetHistory(
            query_pb2.GetHistoryRequest(conversation=ref(GROUP, group_id)), metadata=alice.metadata
        )
        assert list(opened.messages) == []
        listed = await alice.summaries()
        assert listed[f"g:{group_id}"].name == "Lunch"
        # The first message of a peer conversation: the conversation and the message are there.
        sent = await alice.send(PEER, bob.user, "first")
        one = await alice.conversations.GetConversation(
            query_pb2.GetConversationRequest(conversation=ref(PEER, bob.user)),
            metadata=alice.metadata,
        )
        assert one.last_message_id == sent.message_id
        page = await alice.history.GetHistory(
            query_pb2.GetHistoryRequest(conversation=ref(PEER, bob.user)), metadata=alice.metadata
        )
        assert [m.message_id for m in page.messages] == [sent.message_id]


async def test_conversation_refs__peer_key_form_and_codes_a_client_can_act_on(raw: Any) -> None:
    alice, bob = await raw(unique("alice")), await raw(unique("bob"))
    sent = await alice.send(PEER, bob.user, "by key")
    # The key the responses and frames carry names the same conversation as the other user's id.
    by_key = await bob.history.GetHistory(
        query_pb2.GetHistoryRequest(conversation=ref(PEER, sent.conversation_key)),
        metadata=bob.metadata,
    )
    assert [m.message_id for m in by_key.messages] == [sent.message_id]
    # Reading "yourself" or a conversation nothing was sent in: NOT_FOUND, CONVERSATION_NOT_FOUND.
    for request in (
        query_pb2.GetConversationRequest(conversation=ref(PEER, bob.user)),
        query_pb2.GetConversationRequest(conversation=ref(PEER, unique("nobody"))),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as missing:
            await bob.conversations.GetConversation(request, metadata=bob.metadata)
        assert missing.value.code() is grpc.StatusCode.NOT_FOUND
        assert reason_of(missing.value) == 4011
    with pytest.raises(grpc.aio.AioRpcError) as self_history:
        await bob.history.GetHistory(
            query_pb2.GetHistoryRequest(conversation=ref(PEER, bob.user)), metadata=bob.metadata
        )
    assert self_history.value.code() is grpc.StatusCode.NOT_FOUND
    assert reason_of(self_history.value) == 4011
