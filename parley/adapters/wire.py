"""The wire form: the one place that converts domain values to and from protobuf messages."""

from __future__ import annotations

import re
import typing
from enum import IntEnum
from typing import Any

import grpc
from google.protobuf import duration_pb2
from google.protobuf.message import DecodeError, Message

from parley.adapters.wire_fields import from_message, to_message
from parley.domain.acks import AckKind
from parley.domain.commands import SendCommand, SendReceipt
from parley.domain.conversations import ConversationType
from parley.domain.errors import REASONS, Reason, Rejected
from parley.domain.events import (
    CONTENT_TYPES,
    Content,
    Event,
    ForwardedMessage,
    GroupRole,
    MediaRef,
    Payload,
    Picture,
    Priority,
    type_of,
)
from parley.gen.parley.v1 import common_pb2, events_pb2, ingress_pb2


class UndecodableEvent(ValueError):
    """Bytes from the log that are not a well-formed Parley event."""


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


# Payload and content classes are flat dataclasses whose fields mirror their protobuf message
# field by field; the oneof field is the snake-cased class name (MessageSent -> message_sent).
_PAYLOADS: dict[type, str] = {cls: _snake(cls.__name__) for cls in typing.get_args(Payload)}
PAYLOAD_BY_FIELD = {name: cls for cls, name in _PAYLOADS.items()}
# A content's field in MessageBody is its message type's name (ImageContent -> IMAGE -> image).
_CONTENTS: dict[type, str] = {cls: kind.name.lower() for cls, kind in CONTENT_TYPES.items()}
CONTENT_BY_FIELD = {name: cls for cls, name in _CONTENTS.items()}
# Flat dataclasses nested inside contents; a field of one of these types is a sub-message.
_NESTED = (Picture, MediaRef, ForwardedMessage)
FIELD_TYPES: dict[type, dict[str, Any]] = {
    cls: typing.get_type_hints(cls) for cls in (*_PAYLOADS, *_CONTENTS, *_NESTED)
}
_BODIES = tuple[Content, ...]  # a repeated MessageBody (the items of a composite)

_EVENT_ONEOF = events_pb2.Event.DESCRIPTOR.oneofs_by_name["payload"]
_BODY_ONEOF = common_pb2.MessageBody.DESCRIPTOR.oneofs_by_name["content"]
assert set(PAYLOAD_BY_FIELD) == {f.name for f in _EVENT_ONEOF.fields}, "events.proto drifted"
assert set(CONTENT_BY_FIELD) == {f.name for f in _BODY_ONEOF.fields}, "MessageBody drifted"

_PAIRS = tuple[tuple[str, str], ...]


# --- flat dataclass <-> message --------------------------------------------------------------


def _kind_of(name: str, hint: Any) -> tuple[str, Any]:
    """How one dataclass field maps to its protobuf field, decided once per class."""
    args = typing.get_args(hint)
    if name == "content":
        return "content", None
    if hint == _PAIRS:
        return "pairs", None
    if hint in FIELD_TYPES:
        return "nested", hint
    if hint == _BODIES:
        return "bodies", None
    if args[:1] and args[0] in FIELD_TYPES:
        return "nested_list", args[0]
    if typing.get_origin(hint) is tuple:
        return "list", None
    if isinstance(hint, type) and issubclass(hint, IntEnum):
        return "enum", hint
    return "scalar", None


# Per class, (field name, kind, argument): reflection over type hints is far too slow to repeat
# for every event on the hot path of the ingress and the feeds.
FIELD_PLANS: dict[type, tuple[tuple[str, str, Any], ...]] = {
    cls: tuple((name, *_kind_of(name, hint)) for name, hint in hints.items())
    for cls, hints in FIELD_TYPES.items()
}


def _fill(message: Message, value: Any) -> None:
    """Copies a flat dataclass into `message`; content fields become `body` plus `type`."""
    for name, kind, _ in FIELD_PLANS[type(value)]:
        item = getattr(value, name)
        if kind == "scalar" or kind == "enum":
            setattr(message, name, item)
        elif kind == "content":
            message.body.CopyFrom(content_to_proto(item))  # type: ignore[attr-defined]
            message.type = type_of(item)  # type: ignore[attr-defined]
        elif kind == "pairs":
            getattr(message, name).update(item)
        elif kind == "nested":
            getattr(message, name).SetInParent()
            _fill(getattr(message, name), item)
        elif kind == "bodies":
            getattr(message, name).extend(content_to_proto(content) for content in item)
        elif kind == "nested_list":
            for nested in item:
                _fill(getattr(message, name).add(), nested)
        else:
            getattr(message, name).extend(item)


def _read(cls: type, message: Message) -> Any:
    """Builds the flat dataclass `cls` from `message`, converting enums, lists and maps."""
    values: dict[str, Any] = {}
    for name, kind, arg in FIELD_PLANS[cls]:
        if kind == "content":
            values[name] = content_from_proto(message.body)  # type: ignore[attr-defined]
            continue
        item = getattr(message, name)
        if kind == "scalar":
            values[name] = item
        elif kind == "enum":
            values[name] = _enum(arg, item, name)
        elif kind == "pairs":
            values[name] = tuple(sorted(item.items()))
        elif kind == "nested":
            values[name] = _read(arg, item)
        elif kind == "bodies":
            values[name] = tuple(content_from_proto(body) for body in item)
        elif kind == "nested_list":
            values[name] = tuple(_read(arg, nested) for nested in item)
        else:
            values[name] = tuple(item)
    return cls(**values)


_E = typing.TypeVar("_E", bound=IntEnum)


def _enum(enum: type[_E], number: int, what: str) -> _E:
    try:
        return enum(number)
    except ValueError:
        raise Rejected(Reason.BAD_PARAMETER, f"{what}: unknown value {number}") from None


# --- content -------------------------------------------------------------------------------


def content_to_proto(content: Content) -> common_pb2.MessageBody:
    body = common_pb2.MessageBody()
    _fill(getattr(body, _CONTENTS[type(content)]), content)
    return body


def content_from_proto(body: common_pb2.MessageBody) -> Content:
    """The content of a message body; a body without content is a BAD_PARAMETER."""
    kind = body.WhichOneof("content")
    if kind is None:
        raise Rejected(Reason.BAD_PARAMETER, "the message body has no content")
    content: Content = _read(CONTENT_BY_FIELD[kind], getattr(body, kind))
    return content


# --- events --------------------------------------------------------------------------------


def event_to_proto(event: Event) -> events_pb2.Event:
    message = to_message(events_pb2.Event, event)
    payload_field = getattr(message, _PAYLOADS[type(event.payload)])
    payload_field.SetInParent()  # empty payloads (GroupDismissed) must still select the oneof
    _fill(payload_field, event.payload)
    return message


def event_from_proto(message: events_pb2.Event) -> Event:
    """The domain event; raises UndecodableEvent when the message is not a valid event."""
    kind = message.WhichOneof("payload")
    if kind is None:
        raise UndecodableEvent(f"event {message.event_id!r} has no payload")
    try:
        payload: Payload = _read(PAYLOAD_BY_FIELD[kind], getattr(message, kind))
        conversation_type = _enum(ConversationType, message.conversation_type, "conversation_type")
    except Rejected as error:
        raise UndecodableEvent(f"event {message.event_id!r}: {error.message}") from error
    return from_message(Event, message, conversation_type=conversation_type, payload=payload)


def encode_event(event: Event) -> bytes:
    # Deterministic so that the same event always has the same bytes (map order is canonical).
    return event_to_proto(event).SerializeToString(deterministic=True)


def decode_event(data: bytes) -> Event:
    message = events_pb2.Event()
    try:
        message.ParseFromString(data)
    except DecodeError as error:
        raise UndecodableEvent(f"not a parley.v1.Event: {error}") from error
    return event_from_proto(message)


# --- ingress requests and answers ----------------------------------------------------------


def conversation_type_from_proto(number: int) -> ConversationType:
    """The conversation type of a request; an unknown number is a BAD_PARAMETER."""
    return _enum(ConversationType, number, "conversation.type")


def ack_kind_from_proto(number: int) -> AckKind:
    """The kind of an AcknowledgeMessage; an unknown number is a BAD_PARAMETER, not a delivery."""
    return _enum(AckKind, number, "kind")


def group_role_from_proto(number: int) -> GroupRole:
    """The role of a SetGroupMemberRole; an unknown number is a BAD_PARAMETER, not a demotion."""
    return _enum(GroupRole, number, "role")


def send_command_from_proto(req: ingress_pb2.SendMessageRequest, sender: str) -> SendCommand:
    """The send command of a request; malformed enums or a missing body are BAD_PARAMETER."""
    if not req.HasField("conversation"):
        raise Rejected(Reason.BAD_PARAMETER, "conversation is required")
    if not req.HasField("body"):
        raise Rejected(Reason.BAD_PARAMETER, "the message body is required")
    return from_message(
        SendCommand,
        req,
        sender=sender,
        conversation_type=conversation_type_from_proto(req.conversation.type),
        target_id=req.conversation.id,
        content=content_from_proto(req.body),
        priority=_enum(Priority, req.priority, "priority"),
    )


def receipt_to_proto(receipt: SendReceipt) -> ingress_pb2.SendMessageResponse:
    return to_message(ingress_pb2.SendMessageResponse, receipt)


def grpc_status_of(reason: Reason) -> grpc.StatusCode:
    """The gRPC status a rejection with this reason travels as."""
    status: grpc.StatusCode = grpc.StatusCode[REASONS[reason].status]
    return status


def retry_delay_to_proto(rejected: Rejected) -> duration_pb2.Duration | None:
    """The wait after which the same request passes (a rate limit), as RetryInfo carries it."""
    if rejected.retry_after_ms is None:
        return None
    delay = duration_pb2.Duration()
    delay.FromMilliseconds(rejected.retry_after_ms)
    return delay


def rejection_to_proto(rejected: Rejected) -> ingress_pb2.Rejection:
    code: int = grpc_status_of(rejected.reason).value[0]
    return ingress_pb2.Rejection(
        reason=int(rejected.reason),  # type: ignore[arg-type]
        grpc_status_code=code,
        message=rejected.message,
        retry_delay=retry_delay_to_proto(rejected),
    )
