"""Audit records: one logged event as plain JSON values, and as a readable trail line.

The record is what trails (JSONL) and exports carry: the event's position in the log, the log's
timestamp and every field of the event, content included (a recalled message's content is in
the log; the read models withhold it, an audit shows it with the recall after it).
"""

from __future__ import annotations

import base64
import dataclasses
import json
from enum import Enum
from typing import Any

from parley.domain.audit_bounds import format_time
from parley.domain.events import CONTENT_TYPES, Event, Logged, MessageSent

Plain = dict[str, Any]

_SCALARS = (str, int, bool, type(None))
_TAGS = {kind: {"type": message_type.name} for kind, message_type in CONTENT_TYPES.items()}


def plain(value: Any) -> Any:
    """JSON values of a domain value: enums by name, bytes as base64, a content tagged with
    its message type, `ext` pairs as an object. On the export's hot path: a dataclass is read
    through its __dict__, scalars copied as they are."""
    kind = type(value)
    if kind in _SCALARS:
        return value
    if isinstance(value, Enum):
        return value.name
    if kind is tuple:
        return [item if type(item) is str else plain(item) for item in value]
    if kind is bytes:
        return base64.b64encode(value).decode()
    if dataclasses.is_dataclass(value):
        tag = _TAGS.get(kind)
        out: Plain = dict(tag) if tag is not None else {}
        for name, item in vars(value).items():
            if type(item) in _SCALARS:
                out[name] = item
            else:
                out[name] = dict(item) if name == "ext" else plain(item)
        return out
    return value


def event_record(event: Event) -> Plain:
    return {
        "event_id": event.event_id,
        "type": type(event.payload).__name__,
        "conversation_key": event.conversation_key,
        "conversation_type": event.conversation_type.name,
        "actor": event.actor,
        "server_time_ms": event.server_time_ms,
        "client_message_id": event.client_message_id,
        "request_id": event.request_id,
        "payload": plain(event.payload),
    }


def trail_record(logged: Logged, log_time_ms: int) -> Plain:
    """One event of a trail: where it sits in the log, when the log took it, what it was."""
    return {
        "partition": logged.position.partition,
        "offset": logged.position.offset,
        "log_time_ms": log_time_ms,
        "event": event_record(logged.event),
    }


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def to_json(record: Plain) -> str:
    """Compact JSON, non-ASCII kept as UTF-8, keys in the record's own order."""
    return _ENCODER.encode(record)


def text_line(logged: Logged) -> str:
    """`p2@1041 2026-12-03T10:00:01.234Z alice MessageSent m1 TEXT "hi bob"` (the time is the
    event's server time)."""
    event, position = logged.event, logged.position
    head = (
        f"p{position.partition}@{position.offset} {format_time(event.server_time_ms)} "
        f"{event.actor} {type(event.payload).__name__}"
    )
    payload = event.payload
    if isinstance(payload, MessageSent):
        content = plain(payload.content)
        kind = content.pop("type")
        body = json.dumps(content["text"], ensure_ascii=False) if "text" in content else None
        extras = _set_fields(payload, skip=("message_id", "content"))
        tail = f" {to_json(extras)}" if extras else ""
        return f"{head} {payload.message_id} {kind} {body or to_json(content)}{tail}"
    details = _set_fields(payload)
    return f"{head} {to_json(details)}" if details else head


def _set_fields(value: Any, skip: tuple[str, ...] = ()) -> Plain:
    """The fields of a dataclass that differ from their defaults, as JSON values."""
    out: Plain = {}
    for f in dataclasses.fields(value):
        item = getattr(value, f.name)
        if f.name not in skip and (f.default is dataclasses.MISSING or item != f.default):
            out[f.name] = dict(item) if f.name == "ext" else plain(item)
    return out
