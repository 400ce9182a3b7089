"""The security suite's hand-made cases: the authorization matrix (who may read, recall, manage,
broadcast) and oversized fields and frames, each with the reason codes the docs give it."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from google.protobuf.message import Message

from faults.security_calls import Answer
from faults.security_world import GROUP, PEER, ROOM, World, png_bytes, ref, text
from parley.domain.errors import Reason
from parley.domain.media_uploads import UPLOAD_CHUNK_MAX_BYTES
from parley.gen.parley.v1 import (
    common_pb2,
    delivery_pb2,
    events_pb2,
    ingress_pb2,
    media_pb2,
    query_pb2,
)

R = Reason
Check = Callable[[Answer], str | None]  # None: as documented; else what went wrong


@dataclass
class Case:
    """One call and what the docs say it must answer. `expect`: the reasons it may be refused
    with (empty: any documented one, or OK); `must_refuse`: OK is wrong; `check`: a look at an
    accepted answer; `transport`: statuses gRPC itself answers (documented limits)."""

    group: str
    label: str
    path: str
    request: Message | bytes | list[Any]
    bearer: str | None
    expect: frozenset[int] = frozenset()
    must_refuse: bool = True
    check: Check | None = None
    transport: frozenset[str] = frozenset()
    metadata: tuple[tuple[str, str], ...] = ()
    settle_s: float = 0.0  # a refusal written later (coalesced delivered acks) shows by then
    until: Callable[[list[Message]], bool] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _codes(*reasons: Reason) -> frozenset[int]:
    return frozenset(int(r) for r in reasons)


M, H, Q, C, G, A, D, MD = (
    "/parley.v1.MessagingService/", "/parley.v1.HistoryService/", "/parley.v1.ReceiptService/",
    "/parley.v1.ConversationService/", "/parley.v1.GroupService/", "/parley.v1.AdminService/",
    "/parley.v1.DeliveryService/Connect", "/parley.v1.MediaService/",
)  # fmt: skip


def _reads_of(
    conversation: common_pb2.ConversationRef,
    message_id: str,
    whose: str,
    bearer: str,
    expect: frozenset[int],
) -> list[Case]:
    """Reading a conversation the bearer is not in: its history, a message of it, that message's
    receipts and its summary, each refused with `expect`."""
    calls = [
        ("history", H + "GetHistory", query_pb2.GetHistoryRequest(conversation=conversation)),
        ("message", H + "GetMessage",
         query_pb2.GetMessageRequest(conversation=conversation, message_id=message_id)),
        ("receipts of a message", Q + "GetReceipts",
         query_pb2.GetReceiptsRequest(conversation=conversation, message_id=message_id)),
        ("summary", C + "GetConversation",
         query_pb2.GetConversationRequest(conversation=conversation)),
    ]  # fmt: skip
    return [
        Case("authorization", f"{what} of {whose}", path, request, bearer, expect)
        for what, path, request in calls
    ]


def authorization_cases(w: World) -> list[Case]:
    carol, dave, bob = w.token("carol"), w.token("dave"), w.token("bob")
    theirs, group = ref(PEER, w.peer_key), ref(GROUP, w.group)
    with_alice = ref(PEER, w.user("alice"))
    bad, member, admin, owner = _codes(R.BAD_PARAMETER), _codes(R.NOT_A_MEMBER), \
        _codes(R.NOT_GROUP_ADMIN), _codes(R.NOT_GROUP_OWNER)  # fmt: skip
    not_found = _codes(R.MESSAGE_NOT_FOUND)
    cases = [
        # Reading a conversation between two others, named by its key: not the caller's; and
        # reading a group the caller is not a member of.
        *_reads_of(theirs, w.m1, "others' peer conversation", carol, bad),
        Case("authorization", "others' message through own conversation", H + "GetMessage",
             query_pb2.GetMessageRequest(conversation=with_alice, message_id=w.m1), carol,
             not_found),
        Case("authorization", "others' message by seq through own conversation", H + "GetMessage",
             query_pb2.GetMessageRequest(conversation=with_alice, seq=1), carol,
             not_found | _codes(R.CONVERSATION_NOT_FOUND)),
        Case("authorization", "receipts of others' message via own peer", Q + "GetReceipts",
             query_pb2.GetReceiptsRequest(conversation=with_alice, message_id=w.m1), carol,
             not_found),
        Case("authorization", "others' mentions", C + "ListMentions",
             query_pb2.ListMentionsRequest(conversation=theirs), carol, bad),
        Case("authorization", "own list shows no others' conversation", C + "ListConversations",
             query_pb2.ListConversationsRequest(), carol, must_refuse=False,
             check=_lists_none_of(w.peer_key, f"g:{w.group}")),
        *_reads_of(group, w.g1, "a group, by a non-member", carol, member),
        # Media of a message the caller cannot read.
        Case("authorization", "download of others' image", MD + "Download",
             media_pb2.DownloadRequest(message_id=w.m2, object_id=w.object_id), carol,
             _codes(R.MEDIA_ACCESS_DENIED, R.MEDIA_NOT_FOUND)),
        Case("authorization", "download of others' image by object id", MD + "Download",
             media_pb2.DownloadRequest(object_id=w.object_id), carol,
             _codes(R.MEDIA_ACCESS_DENIED, R.MEDIA_NOT_FOUND)),
        Case("authorization", "download URL of others' image", MD + "CreateDownloadUrl",
             media_pb2.DownloadRequest(message_id=w.m2, object_id=w.object_id), carol,
             _codes(R.MEDIA_ACCESS_DENIED, R.MEDIA_NOT_FOUND)),
        Case("authorization", "the recipient downloads the image (control)", MD + "Download",
             media_pb2.DownloadRequest(message_id=w.m2, object_id=w.object_id), bob,
             must_refuse=False, check=_has_bytes),
        Case("authorization", "own upload's media sent by another", M + "SendMessage",
             ingress_pb2.SendMessageRequest(conversation=ref(PEER, w.user("dave")),
                 client_message_id=uuid.uuid4().hex, body=_image_body(w.object_id)), carol,
             _codes(R.MEDIA_NOT_FOUND, R.MEDIA_ACCESS_DENIED)),
        # Recall: only the sender (or a group owner/admin).
        Case("authorization", "recipient recalls the sender's message", M + "RecallMessage",
             ingress_pb2.RecallMessageRequest(conversation=with_alice, message_id=w.m1), bob,
             _codes(R.RECALL_NOT_PERMITTED)),
        Case("authorization", "stranger recalls a peer message", M + "RecallMessage",
             ingress_pb2.RecallMessageRequest(conversation=theirs, message_id=w.m1), carol, bad),
        Case("authorization", "stranger recalls via own conversation", M + "RecallMessage",
             ingress_pb2.RecallMessageRequest(conversation=with_alice, message_id=w.m1), carol,
             not_found | _codes(R.RECALL_NOT_PERMITTED)),
        Case("authorization", "member recalls another member's message", M + "RecallMessage",
             ingress_pb2.RecallMessageRequest(conversation=group, message_id=w.g1), dave,
             _codes(R.RECALL_NOT_PERMITTED)),
        Case("authorization", "non-member recalls a group message", M + "RecallMessage",
             ingress_pb2.RecallMessageRequest(conversation=group, message_id=w.g1), carol,
             member | _codes(R.RECALL_NOT_PERMITTED)),
        # Acks and reads of conversations the caller is not in.
        Case("authorization", "ack of others' message via own peer", M + "AcknowledgeMessage",
             ingress_pb2.AcknowledgeMessageRequest(conversation=with_alice, message_id=w.m1,
                                                   kind=ingress_pb2.ACK_KIND_READ), carol,
             not_found),
        Case("authorization", "ack of a group message by a non-member", M + "AcknowledgeMessage",
             ingress_pb2.AcknowledgeMessageRequest(conversation=group, message_id=w.g1), carol,
             member),
        Case("authorization", "group read by a non-member", M + "MarkConversationRead",
             ingress_pb2.MarkConversationReadRequest(conversation=group), carol, member),
        Case("authorization", "send to a group by a non-member", M + "SendMessage",
             ingress_pb2.SendMessageRequest(conversation=group, client_message_id=uuid.uuid4().hex,
                                            body=text("let me in")), carol, member),
        Case("authorization", "send status of another's send", M + "GetSendStatus",
             ingress_pb2.GetSendStatusRequest(client_message_id=w.m1_cmid), carol,
             must_refuse=False, check=_status_unknown),
        # Group management: owner, admins, members, strangers.
        Case("authorization", "member adds members", G + "AddGroupMembers",
             ingress_pb2.GroupMembersRequest(group_id=w.group, user_ids=[w.user("carol")]), dave,
             admin),
        Case("authorization", "stranger adds themselves", G + "AddGroupMembers",
             ingress_pb2.GroupMembersRequest(group_id=w.group, user_ids=[w.user("carol")]), carol,
             member | admin),
        Case("authorization", "member removes a member", G + "RemoveGroupMembers",
             ingress_pb2.GroupMembersRequest(group_id=w.group, user_ids=[w.user("bob")]), dave,
             admin),
        Case("authorization", "member promotes themselves", G + "SetGroupMemberRole",
             ingress_pb2.SetGroupMemberRoleRequest(group_id=w.group, user_id=w.user("dave"),
                                                   role=events_pb2.GROUP_ROLE_ADMIN), dave, owner),
        Case("authorization", "member mutes a member", G + "MuteGroupMember",
             ingress_pb2.MuteGroupMemberRequest(group_id=w.group, user_id=w.user("bob"),
                                                duration_s=-1), dave, admin),
        Case("authorization", "member mutes the group", G + "MuteGroup",
             ingress_pb2.MuteGroupRequest(group_id=w.group, duration_s=-1), dave, admin),
        Case("authorization", "member edits the whitelist", G + "UpdateGroupWhitelist",
             ingress_pb2.UpdateGroupWhitelistRequest(group_id=w.group, whitelist_only=True,
                                                     add_user_ids=[w.user("dave")]), dave, admin),
        Case("authorization", "member dismisses the group", G + "DismissGroup",
             ingress_pb2.GroupRequest(group_id=w.group), dave, owner),
        Case("authorization", "stranger dismisses the group", G + "DismissGroup",
             ingress_pb2.GroupRequest(group_id=w.group), carol, member | owner),
        Case("authorization", "stranger leaves the group", G + "LeaveGroup",
             ingress_pb2.GroupRequest(group_id=w.group), carol, member),
        Case("authorization", "stranger dismisses the room", "/parley.v1.RoomService/DismissRoom",
             ingress_pb2.RoomRequest(room_id=w.room), carol, owner),
        # The admin API with a user's token: broadcast, send as, issue tokens.
        Case("authorization", "user broadcasts", A + "Broadcast",
             ingress_pb2.BroadcastRequest(client_message_id=uuid.uuid4().hex, body=text("all")),
             w.token("alice"), _codes(R.ADMIN_CREDENTIAL_REQUIRED)),
        Case("authorization", "user sends as another", A + "SendMessageAs",
             ingress_pb2.SendMessageAsRequest(sender_id=w.user("bob"),
                 message=ingress_pb2.SendMessageRequest(
                 conversation=ref(PEER, w.user("carol")), client_message_id=uuid.uuid4().hex,
                 body=text("as bob"))), w.token("alice"), _codes(R.ADMIN_CREDENTIAL_REQUIRED)),
        Case("authorization", "user issues a token", A + "IssueToken",
             ingress_pb2.IssueTokenRequest(user_id=w.user("bob")), carol,
             _codes(R.ADMIN_CREDENTIAL_REQUIRED)),
        # Sessions: a stranger's Hello naming others' conversations gets none of their messages.
        Case("authorization", "session resumes others' conversations", D,
             [delivery_pb2.ClientFrame(hello=delivery_pb2.Hello(resume=True, last_seqs={
                 w.peer_key: 0, f"g:{w.group}": 0}))], carol, must_refuse=False,
             check=_synced_without(w.peer_key, f"g:{w.group}"), until=_is_synced),
        Case("authorization", "session acks others' message", D,
             [delivery_pb2.ClientFrame(hello=delivery_pb2.Hello()),
              delivery_pb2.ClientFrame(delivered=delivery_pb2.DeliveredAck(messages=[
                  delivery_pb2.AckedMessage(conversation_key=w.peer_key, message_id=w.m1),
                  delivery_pb2.AckedMessage(conversation_key=f"g:{w.group}", message_id=w.g1)]))],
             carol, must_refuse=False, check=_nothing_written, until=_is_synced, settle_s=0.5),
        Case("authorization", "session renews with another user's token", D,
             [delivery_pb2.ClientFrame(hello=delivery_pb2.Hello()),
              delivery_pb2.ClientFrame(renew_token=delivery_pb2.RenewToken(token=bob))],
             carol, _codes(R.TOKEN_INVALID)),
    ]  # fmt: skip
    return cases


def _image_body(object_id: str) -> common_pb2.MessageBody:
    media = common_pb2.MediaRef(object_id=object_id)
    return common_pb2.MessageBody(image=common_pb2.ImageContent(media=media))


def _is_synced(read: list[Message]) -> bool:
    return any(_frames_of(m, "synced") for m in read)


def _frames_of(message: Message, kind: str) -> list[Any]:
    frame: Any = message
    inner = list(frame.batch.frames) if frame.WhichOneof("frame") == "batch" else [frame]
    return [getattr(f, kind) for f in inner if f.WhichOneof("frame") == kind]


def _synced_without(*keys: str) -> Check:
    def check(answer: Answer) -> str | None:
        seen = {
            f.message.conversation_key for m in answer.responses for f in _frames_of(m, "message")
        }
        synced = {k for m in answer.responses for s in _frames_of(m, "synced") for k in s.last_seqs}
        leaked = (seen | synced) & set(keys)
        return f"the session was given {sorted(leaked)}" if leaked else None

    return check


def _nothing_written(answer: Answer) -> str | None:
    return None  # the end offsets compared around the call say it (the case is judged so)


def _lists_none_of(*keys: str) -> Check:
    def check(answer: Answer) -> str | None:
        listed = {c.conversation_key for c in answer.responses[0].conversations}  # type: ignore[attr-defined]
        return f"listed {sorted(listed & set(keys))}" if listed & set(keys) else None

    return check


def _has_bytes(answer: Answer) -> str | None:
    got = b"".join(c.data for c in answer.responses)  # type: ignore[attr-defined]
    return None if got == png_bytes() else "the recipient did not get the image"


def _status_unknown(answer: Answer) -> str | None:
    status = answer.responses[0].status  # type: ignore[attr-defined]
    return None if status == ingress_pb2.SEND_STATUS_UNKNOWN else "another's send status leaked"


def oversized_cases(w: World) -> list[Case]:
    alice = w.token("alice")
    bob_ref = ref(PEER, w.user("bob"))

    def send(body: common_pb2.MessageBody, **fields: Any) -> ingress_pb2.SendMessageRequest:
        fields.setdefault("client_message_id", uuid.uuid4().hex)
        fields.setdefault("conversation", bob_ref)
        return ingress_pb2.SendMessageRequest(body=body, **fields)

    too_large, bad = _codes(R.MESSAGE_TOO_LARGE), _codes(R.BAD_PARAMETER)
    grpc_limit = frozenset({"RESOURCE_EXHAUSTED"})
    custom = common_pb2.CustomContent(
        sub_type=1, data="d" * 20_000, searchable_content="s" * 13_000
    )
    cases = [
        Case("oversized", "text over 32 KB", M + "SendMessage", send(text("t" * 32_769)), alice,
             too_large),
        Case("oversized", "text of 32 KB in multibyte characters", M + "SendMessage",
             send(text("é" * 16_385)), alice, too_large),
        Case("oversized", "command over 5 KB", M + "SendMessage", send(common_pb2.MessageBody(
            command=common_pb2.CommandContent(data=b"c" * 5_121))), alice, too_large),
        Case("oversized", "barrage over 5 KB", M + "SendMessage", send(common_pb2.MessageBody(
            barrage=common_pb2.BarrageContent(text="b" * 5_121)), conversation=ref(ROOM, w.room)),
            alice, too_large),
        Case("oversized", "custom over 32 KB", M + "SendMessage",
             send(common_pb2.MessageBody(custom=custom)), alice, too_large),
        Case("oversized", "51 mentions", M + "SendMessage", send(text("hi"), conversation=ref(
            GROUP, w.group), mentioned_user_ids=[f"u{i}" for i in range(51)]), alice,
            _codes(R.TOO_MANY_MENTIONS)),
        Case("oversized", "33 ext entries", M + "SendMessage",
             send(text("hi"), ext={f"k{i}": "v" for i in range(33)}), alice, bad),
        Case("oversized", "ext over 4 KB", M + "SendMessage",
             send(text("hi"), ext={"k": "v" * 4_096}),
             alice, bad),
        Case("oversized", "client message id of 65 characters", M + "SendMessage",
             send(text("hi"), client_message_id="c" * 65), alice, bad),
        Case("oversized", "peer id of 65 characters", M + "SendMessage",
             send(text("hi"), conversation=ref(PEER, "u" * 65)), alice, bad),
        Case("oversized", "group id of 65 characters", G + "CreateGroup",
             ingress_pb2.CreateGroupRequest(group_id="g" * 65), alice, bad),
        Case("oversized", "composite of 21 items", M + "SendMessage", send(common_pb2.MessageBody(
            multiple=common_pb2.MultipleContent(items=[text("i")] * 21))), alice,
            _codes(R.TOO_MANY_ITEMS)),
        Case("oversized", "a token of 6 KB", C + "ListConversations",
             query_pb2.ListConversationsRequest(), "t" * 6_000, _codes(R.TOKEN_INVALID)),
        Case("oversized", "history page of 101", H + "GetHistory", query_pb2.GetHistoryRequest(
            conversation=bob_ref, page_size=101), alice, bad),
        Case("oversized", "upload chunk over 1 MiB", MD + "Upload", [media_pb2.UploadChunk(
            kind=common_pb2.MESSAGE_TYPE_FILE, file_name="f.bin",
            data=b"\0" * (UPLOAD_CHUNK_MAX_BYTES + 1))], alice, bad),
        Case("oversized", "declared image over 10 MiB", MD + "Upload", [media_pb2.UploadChunk(
            kind=common_pb2.MESSAGE_TYPE_IMAGE, file_name="a.png", declared_size_bytes=11 << 20,
            data=png_bytes())], alice, _codes(R.MEDIA_TOO_LARGE)),
        Case("oversized", "upload URL for an image over 10 MiB", MD + "CreateUploadUrl",
             media_pb2.CreateUploadUrlRequest(kind=common_pb2.MESSAGE_TYPE_IMAGE, file_name="a.png",
                                              size_bytes=11 << 20), alice,
             _codes(R.MEDIA_TOO_LARGE)),
        Case("oversized", "a 5 MiB request frame", M + "SendMessage",
             send(text("t" * (5 << 20))), alice, transport=grpc_limit),
        Case("oversized", "a 2 MiB session frame", D,
             [delivery_pb2.ClientFrame(hello=delivery_pb2.Hello(
            device="d" * (2 << 20)))], alice, transport=grpc_limit),
        Case("oversized", "a 5 MiB upload chunk frame", MD + "Upload", [media_pb2.UploadChunk(
            kind=common_pb2.MESSAGE_TYPE_FILE, file_name="f.bin", data=b"\0" * (5 << 20))],
            alice, transport=grpc_limit),
        Case("oversized", "a 1 MB group name", G + "CreateGroup", ingress_pb2.CreateGroupRequest(
            group_id=f"{w.prefix}big", name="n" * 1_000_000), alice, bad),
        Case("oversized", "10,000 group members", G + "CreateGroup", ingress_pb2.CreateGroupRequest(
            group_id=f"{w.prefix}many", member_ids=[f"m{i}" for i in range(10_000)]), alice, bad),
        Case("oversized", "a group mute past int64 milliseconds", G + "MuteGroup",
             ingress_pb2.MuteGroupRequest(group_id=w.group, duration_s=2**62), alice, bad),
        Case("oversized", "a token lifetime past int64 milliseconds", A + "IssueToken",
             ingress_pb2.IssueTokenRequest(user_id=w.user("bob"), ttl_s=2**62), w.admin_secret,
             bad),
    ]  # fmt: skip
    return cases
