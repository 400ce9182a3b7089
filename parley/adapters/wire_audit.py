"""Audit records straight from the wire form: the record `trail_record` makes of a decoded event,
built from the protobuf message without the domain event in between.

Exports and JSONL trails only turn events into JSON; building the domain dataclasses first cost
more than half of an export's time (about 12 us of 22 us per event on the 4 M-event bench). The
converters here are derived once from the same field plans as `wire._read`, so they follow every
change to events.proto; a unit test checks that both paths give the same record for any event.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from enum import IntEnum
from operator import attrgetter
from typing import Any

import orjson
from google.protobuf.message import DecodeError, Message

from parley.adapters.wire import (
    CONTENT_BY_FIELD,
    FIELD_PLANS,
    FIELD_TYPES,
    PAYLOAD_BY_FIELD,
    UndecodableEvent,
    decode_event,
)
from parley.domain.audit_records import Plain, trail_record
from parley.domain.conversations import ConversationType
from parley.domain.events import CONTENT_TYPES, Logged, Position
from parley.gen.parley.v1 import events_pb2

Convert = Callable[[Any], Any]


class _Unusual(Exception):
    """A value the domain decoder rejects (an unknown enum number, a body without content):
    the record is left to `decode_event`, which names the problem."""


def _names_of(enum: type[IntEnum]) -> Convert:
    names = {member.value: member.name for member in enum}

    def name(number: int) -> str:
        found = names.get(number)
        if found is None:
            raise _Unusual
        return found

    return name


def _pairs(pairs: Any) -> Plain:
    return dict(sorted(pairs.items())) if pairs else {}  # most maps are empty: skip items()


def _base64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _content(body: Any) -> Plain:
    kind = body.WhichOneof("content")
    if kind is None:
        raise _Unusual
    content: Plain = _CONVERTERS[CONTENT_BY_FIELD[kind]](getattr(body, kind))
    return content


def _contents(bodies: Any) -> list[Plain]:
    return [_content(body) for body in bodies]


def _each(convert: Convert) -> Convert:
    return lambda items: [convert(item) for item in items]


def _step(cls: type, name: str, kind: str, arg: Any) -> Convert | None:
    """How `plain` shows one field of `cls`; None: the protobuf value as it is."""
    if kind == "scalar":
        return _base64 if FIELD_TYPES[cls][name] is bytes else None
    if kind == "enum":
        return _names_of(arg)
    if kind == "content":
        return _content
    if kind == "pairs":
        return _pairs
    if kind == "nested":
        return lambda message: _CONVERTERS[arg](message)
    if kind == "bodies":
        return _contents
    if kind == "nested_list":
        return _each(lambda message: _CONVERTERS[arg](message))
    return list  # repeated scalars (user ids)


def _converter(cls: type) -> Convert:
    """A function from `cls`'s protobuf message to `plain(cls(...))`: the fields in the
    dataclass's order, a content tagged with its message type."""
    plan = FIELD_PLANS[cls]
    tag = CONTENT_TYPES.get(cls)
    template: Plain = {"type": tag.name} if tag is not None else {}
    template |= dict.fromkeys(name for name, _, _ in plan)
    steps = [(name, _step(cls, name, kind, arg)) for name, kind, arg in plan]
    plain_names = tuple(name for name, step in steps if step is None)
    converted = tuple((name, step) for name, step in steps if step is not None)
    # One C call reads every field that needs no conversion.
    get = attrgetter(*plain_names) if len(plain_names) > 1 else None
    single = plain_names[0] if len(plain_names) == 1 else None

    def convert(message: Message) -> Plain:
        out = template.copy()
        if get is not None:
            out.update(zip(plain_names, get(message), strict=True))
        elif single is not None:
            out[single] = getattr(message, single)
        for name, step in converted:
            out[name] = step(getattr(message, name if name != "content" else "body"))
        return out

    return convert


_CONVERTERS: dict[type, Convert] = {cls: _converter(cls) for cls in FIELD_PLANS}
_PAYLOADS = {name: (cls.__name__, _CONVERTERS[cls]) for name, cls in PAYLOAD_BY_FIELD.items()}
_CONVERSATION_TYPE = _names_of(ConversationType)
_HEAD = attrgetter("event_id", "conversation_key", "conversation_type", "actor", "server_time_ms")
_TAIL = attrgetter("client_message_id", "request_id")


def wire_record(data: bytes, partition: int, offset: int, log_time_ms: int) -> Plain:
    """`trail_record` of the event `data` encodes, at (partition, offset) and the log's time;
    raises UndecodableEvent for bytes that `decode_event` rejects."""
    message = events_pb2.Event()
    try:
        message.ParseFromString(data)
        kind = message.WhichOneof("payload")
        if kind is None:
            raise _Unusual
        name, convert = _PAYLOADS[kind]
        event_id, key, conversation_type, actor, server_time_ms = _HEAD(message)
        client_message_id, request_id = _TAIL(message)
        event = {
            "event_id": event_id,
            "type": name,
            "conversation_key": key,
            "conversation_type": _CONVERSATION_TYPE(conversation_type),
            "actor": actor,
            "server_time_ms": server_time_ms,
            "client_message_id": client_message_id,
            "request_id": request_id,
            "payload": convert(getattr(message, kind)),
        }
    except (_Unusual, DecodeError):
        # decode_event raises with the reason; should it accept the bytes, its record stands.
        logged = Logged(decode_event(data), Position(partition, offset))
        return trail_record(logged, log_time_ms)
    return {"partition": partition, "offset": offset, "log_time_ms": log_time_ms, "event": event}


def record_json(record: Plain) -> bytes:
    """`to_json(record)` in UTF-8, by orjson: the same bytes for the str, int, bool, list and
    dict values of audit records (a unit test checks any event), in about half the time."""
    return orjson.dumps(record)


__all__ = ["UndecodableEvent", "record_json", "wire_record"]
