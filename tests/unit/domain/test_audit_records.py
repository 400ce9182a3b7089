"""Audit records: every field of an event as JSON values, and readable trail lines."""

from __future__ import annotations

import json

from parley.domain.audit_records import text_line, to_json, trail_record
from parley.domain.events import CommandContent, MessageSent
from tests.unit.domain.projection_script import GROUP, PEER_AB, Script, scripted_history


def test_trail_record__carries_position_log_time_and_every_field() -> None:
    s = Script()
    s.send(GROUP, "carol", "hi @all", mention_all=True, ext=(("k", "v"),))
    s.add(PEER_AB, "alice", MessageSent("c1", CommandContent(b"\x00\x01")))

    first, second = (json.loads(to_json(trail_record(one, 42))) for one in s.logged)

    assert (first["partition"], first["offset"], first["log_time_ms"]) == (0, 0, 42)
    payload = first["event"]["payload"]
    assert (
        first["event"]["type"] == "MessageSent" and first["event"]["conversation_type"] == "GROUP"
    )
    assert payload["content"] == {"type": "TEXT", "text": "hi @all"}
    assert (payload["mention_all"], payload["ext"], payload["priority"]) == (
        True,
        {"k": "v"},
        "LOW",
    )
    assert second["event"]["payload"]["content"] == {"type": "COMMAND", "data": "AAE="}


def test_text_line__a_recalled_message_then_its_recall() -> None:
    lines = [text_line(one) for one in scripted_history().logged[:3]]

    assert lines[1].startswith("p0@1 2023-11-14T22:13:22.000Z bob MessageSent m2 TEXT")
    assert lines[1].endswith('"hi alice" {"recipient_id":"alice"}')
    assert lines[2].endswith('MessageRecalled {"message_id":"m2","original_sender_id":"bob"}')
