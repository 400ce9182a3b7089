"""The wire form: events round-trip exactly; requests map onto commands; answers onto protos."""

from __future__ import annotations

import typing
from typing import Any

import grpc
import pytest
from hypothesis import given
from hypothesis import strategies as st

from parley.adapters import wire
from parley.domain.commands import SendCommand, SendReceipt
from parley.domain.conversations import ConversationType
from parley.domain.errors import Reason, Rejected
from parley.domain.events import (
    AudioContent,
    BarrageContent,
    BroadcastSent,
    CombineContent,
    CommandContent,
    Content,
    ConversationDeleted,
    ConversationRead,
    CustomContent,
    Event,
    FileContent,
    ForwardedMessage,
    GroupCreated,
    GroupDismissed,
    GroupMemberMuted,
    GroupMemberRoleChanged,
    GroupMembersAdded,
    GroupMembersRemoved,
    GroupMuted,
    GroupRole,
    GroupWhitelistChanged,
    ImageContent,
    MediaRef,
    MediaUploaded,
    MessageDelivered,
    MessageRead,
    MessageRecalled,
    MessageSent,
    MessageType,
    MultipleContent,
    Payload,
    Picture,
    Priority,
    RoomCreated,
    RoomDismissed,
    RoomEntered,
    RoomLeft,
    TextContent,
    UserBlocked,
    UserUnblocked,
    VideoContent,
)
from parley.gen.parley.v1 import common_pb2, events_pb2, ingress_pb2

ALL_PAYLOAD_KINDS = set(typing.get_args(Payload))

EXAMPLES: list[Payload] = [
    MessageSent(
        "m1",
        TextContent("héllo"),
        recipient_id="bob",
        mentioned_user_ids=("carol", "alice"),
        mention_all=True,
        priority=Priority.HIGH,
        reply_to_message_id="m0",
        ext=(("a", "1"), ("b", "2")),
        receipt_requested=True,
        masked=True,
    ),
    MessageSent("m2", CommandContent(b"\x00\xff")),
    MessageSent("m3", BarrageContent("wow")),
    MessageSent("m4", CustomContent(7, '{"x":1}', "searchable")),
    MessageRecalled("m1", "alice"),
    MessageDelivered("m1"),
    MessageRead("m1"),
    ConversationRead(42),
    ConversationRead(),
    ConversationDeleted(delete_history=True),
    GroupCreated("g1", "Team", "alice", ("bob", "carol")),
    GroupDismissed(),
    GroupMembersAdded(("dave",)),
    GroupMembersRemoved(("dave",), left=True),
    GroupMemberRoleChanged("bob", GroupRole.ADMIN),
    GroupMemberMuted("bob", -1),
    GroupMuted(1_700_000_000_000),
    GroupWhitelistChanged(("bob",), ("carol",), whitelist_only=True),
    RoomCreated("r1", "Lobby"),
    RoomEntered(),
    RoomLeft(),
    RoomDismissed(),
    UserBlocked("mallory"),
    UserUnblocked("mallory"),
    BroadcastSent("b1", TextContent("maintenance at noon")),
    MediaUploaded(
        ImageContent(
            MediaRef("o_1", file_name="cat.png", size_bytes=9, mime_type="image/png"),
            800,
            600,
            Picture(240, 180, 100),
            Picture(800, 600, 900),
        )
    ),
    MessageSent("m5", VideoContent(MediaRef(url="https://x/v.mp4"), 2000, 4, 3, Picture(4, 3))),
    MessageSent(
        "m6",
        MultipleContent(
            (TextContent("a"), FileContent(MediaRef("o_2")), AudioContent(MediaRef("o_3"), 5))
        ),
    ),
    MessageSent(
        "m7",
        CombineContent(
            "chat",
            (ForwardedMessage("m6", "bob", MultipleContent((TextContent("x"),)), 5),),
            "summary",
        ),
    ),
]


def _event(payload: Payload, **overrides: Any) -> Event:
    fields: dict[str, Any] = {
        "event_id": "e1",
        "conversation_key": "g:g1",
        "conversation_type": ConversationType.GROUP,
        "actor": "alice",
        "server_time_ms": 1_700_000_000_123,
        "payload": payload,
        "client_message_id": "c1",
        "request_id": "r1",
    }
    return Event(**(fields | overrides))


def test_wire__examples_cover_every_payload_kind() -> None:
    assert {type(p) for p in EXAMPLES} == ALL_PAYLOAD_KINDS


@pytest.mark.parametrize("payload", EXAMPLES, ids=lambda p: type(p).__name__)
def test_wire__event_round_trips_exactly(payload: Payload) -> None:
    event = _event(payload)
    assert wire.decode_event(wire.encode_event(event)) == event
    assert wire.event_from_proto(wire.event_to_proto(event)) == event


def test_wire__empty_payload_still_selects_its_oneof_field() -> None:
    message = wire.event_to_proto(_event(RoomEntered()))
    assert message.WhichOneof("payload") == "room_entered"


def test_wire__message_sent_carries_type_and_body_on_the_wire() -> None:
    message = wire.event_to_proto(_event(EXAMPLES[3]))
    assert int(message.message_sent.type) == MessageType.CUSTOM
    assert message.message_sent.body.custom.searchable_content == "searchable"


# --- property: any event of any kind round-trips ------------------------------------------

_INT64 = st.integers(-(2**63), 2**63 - 1)
_CONTENTS: st.SearchStrategy[Content] = st.one_of(
    st.builds(TextContent, st.text()),
    st.builds(CommandContent, st.binary()),
    st.builds(BarrageContent, st.text()),
    st.builds(CustomContent, st.integers(0, 2**32 - 1), st.text(), st.text()),
)
_EXT = st.dictionaries(st.text(), st.text(), max_size=4).map(lambda d: tuple(sorted(d.items())))


def _payloads(cls: type) -> st.SearchStrategy[Any]:
    fields: dict[str, st.SearchStrategy[Any]] = {}
    for name, hint in typing.get_type_hints(cls).items():
        if name == "content":
            fields[name] = _CONTENTS
        elif name == "ext":
            fields[name] = _EXT
        elif hint is int:
            fields[name] = _INT64
        else:
            fields[name] = st.from_type(hint)
    return st.builds(cls, **fields)


_EVENTS = st.builds(
    Event,
    event_id=st.text(),
    conversation_key=st.text(),
    conversation_type=st.sampled_from(ConversationType),
    actor=st.text(),
    server_time_ms=_INT64,
    payload=st.sampled_from(sorted(ALL_PAYLOAD_KINDS, key=str)).flatmap(_payloads),
    client_message_id=st.text(),
    request_id=st.text(),
)


@given(_EVENTS)
def test_wire__any_event_round_trips_exactly(event: Event) -> None:
    assert wire.decode_event(wire.encode_event(event)) == event


# --- malformed input -----------------------------------------------------------------------


def test_wire__garbage_bytes_are_undecodable() -> None:
    with pytest.raises(wire.UndecodableEvent):
        wire.decode_event(b"\xff\xff\xff")


def test_wire__event_without_payload_is_undecodable() -> None:
    with pytest.raises(wire.UndecodableEvent, match="no payload"):
        wire.decode_event(events_pb2.Event(event_id="e1").SerializeToString())


def test_wire__unknown_conversation_type_is_undecodable() -> None:
    message = wire.event_to_proto(_event(RoomEntered()))
    message.conversation_type = 9  # type: ignore[assignment]
    with pytest.raises(wire.UndecodableEvent, match="conversation_type"):
        wire.event_from_proto(message)


def test_wire__content_from_empty_body_is_bad_parameter() -> None:
    with pytest.raises(Rejected) as caught:
        wire.content_from_proto(common_pb2.MessageBody())
    assert caught.value.reason is Reason.BAD_PARAMETER


@pytest.mark.parametrize(
    "content", [TextContent("hi"), CommandContent(b"x"), BarrageContent("b"), CustomContent(1, "d")]
)
def test_wire__content_round_trips(content: Content) -> None:
    assert wire.content_from_proto(wire.content_to_proto(content)) == content


# --- ingress -------------------------------------------------------------------------------


_GROUP = common_pb2.CONVERSATION_TYPE_GROUP


def _request(**overrides: Any) -> ingress_pb2.SendMessageRequest:
    fields: dict[str, Any] = {
        "conversation": common_pb2.ConversationRef(type=_GROUP, id="g1"),
        "client_message_id": "c1",
        "body": common_pb2.MessageBody(text=common_pb2.TextContent(text="hi @bob")),
        "mentioned_user_ids": ["bob", "amy"],
        "mention_all": True,
        "priority": common_pb2.PRIORITY_MEDIUM,
        "reply_to_message_id": "m0",
        "ext": {"z": "26", "a": "1"},
        "receipt_requested": True,
    }
    return ingress_pb2.SendMessageRequest(**(fields | overrides))


def test_wire__send_request_maps_onto_send_command() -> None:
    assert wire.send_command_from_proto(_request(), "alice") == SendCommand(
        sender="alice",
        conversation_type=ConversationType.GROUP,
        target_id="g1",
        client_message_id="c1",
        content=TextContent("hi @bob"),
        mentioned_user_ids=("bob", "amy"),
        mention_all=True,
        priority=Priority.MEDIUM,
        reply_to_message_id="m0",
        ext=(("a", "1"), ("z", "26")),
        receipt_requested=True,
    )


@pytest.mark.parametrize(
    "overrides",
    [
        {"conversation": common_pb2.ConversationRef(type=7, id="g1")},  # type: ignore[arg-type]
        {"priority": 9},
        {"body": common_pb2.MessageBody()},
        {"body": None},
        {"conversation": None},
    ],
    ids=["conversation-type", "priority", "empty-body", "no-body", "no-conversation"],
)
def test_wire__malformed_send_request_is_bad_parameter(overrides: dict[str, Any]) -> None:
    with pytest.raises(Rejected) as caught:
        wire.send_command_from_proto(_request(**overrides), "alice")
    assert caught.value.reason is Reason.BAD_PARAMETER


def test_wire__receipt_maps_onto_response() -> None:
    receipt = SendReceipt("m1", 17, 1_700_000_000_000, "p:alice:bob", duplicate=True, masked=True)
    assert wire.receipt_to_proto(receipt) == ingress_pb2.SendMessageResponse(
        message_id="m1",
        order_key=17,
        server_time_ms=1_700_000_000_000,
        conversation_key="p:alice:bob",
        duplicate=True,
        masked=True,
    )


@pytest.mark.parametrize(
    ("reason", "status"),
    [
        (Reason.SENSITIVE_WORD, grpc.StatusCode.PERMISSION_DENIED),
        (Reason.EVENT_LOG_UNAVAILABLE, grpc.StatusCode.UNAVAILABLE),
        (Reason.RATE_LIMITED, grpc.StatusCode.RESOURCE_EXHAUSTED),
    ],
)
def test_wire__rejection_carries_reason_status_and_message(
    reason: Reason, status: grpc.StatusCode
) -> None:
    proto = wire.rejection_to_proto(Rejected(reason, "nope"))
    assert (proto.reason, proto.grpc_status_code, proto.message) == (
        int(reason),
        status.value[0],
        "nope",
    )


def test_wire__a_rate_limit_rejection_carries_its_retry_delay() -> None:
    limited = wire.rejection_to_proto(Rejected(Reason.RATE_LIMITED, "slow", retry_after_ms=1234))
    assert limited.retry_delay.ToMilliseconds() == 1234
    assert not wire.rejection_to_proto(Rejected(Reason.MUTED, "no")).HasField("retry_delay")


def test_wire__every_reason_has_a_grpc_status() -> None:
    assert all(isinstance(wire.grpc_status_of(reason), grpc.StatusCode) for reason in Reason)


def test_wire__conversation_type_from_proto_maps_known_and_rejects_unknown() -> None:
    assert wire.conversation_type_from_proto(common_pb2.CONVERSATION_TYPE_ROOM) is (
        ConversationType.ROOM
    )
    with pytest.raises(Rejected) as caught:
        wire.conversation_type_from_proto(3)
    assert caught.value.reason is Reason.BAD_PARAMETER
