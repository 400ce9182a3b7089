"""Audit records from the wire form are byte for byte the records of the decoded events."""

from __future__ import annotations

import pytest
from hypothesis import given

from parley.adapters import wire
from parley.adapters.wire_audit import record_json, wire_record
from parley.domain.audit_chain import ChainWriter
from parley.domain.audit_records import to_json, trail_record
from parley.domain.events import Event, Logged, MessageSent, Payload, Position, TextContent
from parley.gen.parley.v1 import events_pb2
from tests.unit.adapters.test_wire import _EVENTS, EXAMPLES, _event


def _domain_json(event: Event) -> str:
    return to_json(trail_record(Logged(event, Position(3, 41)), 1_700_000_000_999))


def _wire_json(data: bytes) -> str:
    record = wire_record(data, 3, 41, 1_700_000_000_999)
    encoded = to_json(record)
    assert record_json(record) == encoded.encode()  # orjson writes what json writes
    return encoded


@pytest.mark.parametrize("payload", EXAMPLES, ids=lambda p: type(p).__name__)
def test_wire_record__equals_the_decoded_events_record(payload: Payload) -> None:
    event = _event(payload)
    assert _wire_json(wire.encode_event(event)) == _domain_json(event)


@given(_EVENTS)
def test_wire_record__any_event_gives_the_same_bytes(event: Event) -> None:
    assert _wire_json(wire.encode_event(event)) == _domain_json(event)


def test_wire_record__garbage_and_payloadless_bytes_are_undecodable() -> None:
    with pytest.raises(wire.UndecodableEvent):
        wire_record(b"\xff\xff\xff", 0, 0, 0)
    with pytest.raises(wire.UndecodableEvent, match="no payload"):
        wire_record(events_pb2.Event(event_id="e1").SerializeToString(), 0, 0, 0)


def test_wire_record__unknown_enum_numbers_are_undecodable() -> None:
    message = wire.event_to_proto(_event(MessageSent("m1", TextContent("hi"))))
    message.message_sent.priority = 7  # type: ignore[assignment]
    with pytest.raises(wire.UndecodableEvent, match="priority"):
        wire_record(message.SerializeToString(), 0, 0, 0)
    message.message_sent.priority = 0  # type: ignore[assignment]
    message.conversation_type = 9  # type: ignore[assignment]
    with pytest.raises(wire.UndecodableEvent, match="conversation_type"):
        wire_record(message.SerializeToString(), 0, 0, 0)


def test_wire_record__a_message_without_content_is_undecodable() -> None:
    message = wire.event_to_proto(_event(MessageSent("m1", TextContent("hi"))))
    message.message_sent.ClearField("body")
    with pytest.raises(wire.UndecodableEvent):
        wire_record(message.SerializeToString(), 0, 0, 0)


@given(_EVENTS)
def test_record_json__chains_to_the_same_lines(event: Event) -> None:
    record = trail_record(Logged(event, Position(0, 7)), 5)
    assert ChainWriter().line_of(record_json(record)) == ChainWriter().line(record)
