"""Hypothesis strategies of protobuf requests: random ones from a descriptor, and mutations of a
valid request (one field at a time replaced by a hostile value of its type)."""

from __future__ import annotations

from typing import Any

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from hypothesis import strategies as st

MAX_DEPTH = 3
INT_BOUNDS = {
    FieldDescriptor.TYPE_INT32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_SINT32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_SFIXED32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_UINT32: (0, 2**32 - 1),
    FieldDescriptor.TYPE_FIXED32: (0, 2**32 - 1),
    FieldDescriptor.TYPE_INT64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_SINT64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_SFIXED64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_UINT64: (0, 2**64 - 1),
    FieldDescriptor.TYPE_FIXED64: (0, 2**64 - 1),
}
# Strings a servicer treats specially: ids, keys, separators, limits' edges, odd characters.
HOSTILE_STRINGS = (
    "",
    " ",
    "system",
    "p:a:b",
    "p::",
    "g:",
    "r:x",
    "u:alice",
    "a" * 64,
    "a" * 65,
    "../../etc/passwd",
    "\x00",
    "é" * 40,
    "\U0001f600",
    "x" * 5000,
)


def _integers(field: Any) -> st.SearchStrategy[int]:
    low, high = INT_BOUNDS[field.type]
    edges = sorted(
        {low, high, 0, 1, -1 if low < 0 else 2, high // 2, 2**31 - 1 if high > 2**31 else 7}
    )
    return st.one_of(st.sampled_from(edges), st.integers(low, high))


def _scalar(field: Any) -> st.SearchStrategy[Any]:
    kind = field.type
    if kind in INT_BOUNDS:
        return _integers(field)
    if kind == FieldDescriptor.TYPE_BOOL:
        return st.booleans()
    if kind in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        return st.floats(width=32 if kind == FieldDescriptor.TYPE_FLOAT else 64)
    if kind == FieldDescriptor.TYPE_STRING:
        return st.one_of(st.sampled_from(HOSTILE_STRINGS), st.text(max_size=80))
    if kind == FieldDescriptor.TYPE_BYTES:
        return st.binary(max_size=256)
    if kind == FieldDescriptor.TYPE_ENUM:
        known = [v.number for v in field.enum_type.values]
        return st.one_of(st.sampled_from(known), st.integers(-3, 1000))
    raise ValueError(f"no strategy for field type {kind}")


def _is_map(field: Any) -> bool:
    message = field.message_type
    return bool(message is not None and message.GetOptions().map_entry)


def _fill(message: Any, field: Any, draw: Any, depth: int) -> None:
    """Sets `field` of `message` to a drawn value (for repeated fields: a drawn list)."""
    repeated = field.is_repeated
    if _is_map(field):
        key_field, value_field = (
            field.message_type.fields_by_name["key"],
            field.message_type.fields_by_name["value"],
        )
        entries = draw(st.integers(0, 4))
        target = getattr(message, field.name)
        for _ in range(entries):
            key = draw(_scalar(key_field))
            if value_field.type == FieldDescriptor.TYPE_MESSAGE:
                target[key].CopyFrom(draw(message_of(value_field.message_type, depth + 1)))
            else:
                target[key] = draw(_scalar(value_field))
        return
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        if depth >= MAX_DEPTH:
            return
        count = draw(st.integers(0, 3)) if repeated else 1
        for _ in range(count):
            value = draw(message_of(field.message_type, depth + 1))
            if repeated:
                getattr(message, field.name).add().CopyFrom(value)
            else:
                getattr(message, field.name).CopyFrom(value)
        return
    if repeated:
        getattr(message, field.name).extend(draw(st.lists(_scalar(field), max_size=6)))
    else:
        setattr(message, field.name, draw(_scalar(field)))


def _class_of(descriptor: Any) -> type[Message]:
    from google.protobuf import message_factory

    return message_factory.GetMessageClass(descriptor)


@st.composite
def message_of(draw: Any, descriptor: Any, depth: int = 0) -> Message:
    """A message of `descriptor` with a random subset of its fields set to random values."""
    message = _class_of(descriptor)()
    for field in descriptor.fields:
        if draw(st.booleans()):
            _fill(message, field, draw, depth)
    return message


def _field_paths(
    descriptor: Any, prefix: tuple[str, ...] = (), depth: int = 0
) -> list[tuple[str, ...]]:
    """Every field reachable from `descriptor` (maps and repeated fields as a whole)."""
    paths = []
    for field in descriptor.fields:
        path = (*prefix, field.name)
        paths.append(path)
        nested = field.type == FieldDescriptor.TYPE_MESSAGE and not _is_map(field)
        if nested and not field.is_repeated and depth < MAX_DEPTH:
            paths.extend(_field_paths(field.message_type, path, depth + 1))
    return paths


@st.composite
def mutation_of(draw: Any, seed: Message) -> Message | bytes:
    """`seed` with one to three fields (at any depth) replaced by hostile values of their type
    (a request without fields: its bytes with random bytes after them)."""
    paths = _field_paths(seed.DESCRIPTOR)
    if not paths:  # a request without fields: what it can carry is unknown fields, or garbage
        garbage: bytes = draw(st.binary(min_size=1, max_size=64))
        return seed.SerializeToString() + garbage
    message = type(seed)()
    message.CopyFrom(seed)
    for path in draw(st.lists(st.sampled_from(paths), min_size=1, max_size=3, unique=True)):
        holder = message
        for name in path[:-1]:
            holder = getattr(holder, name)
        field = holder.DESCRIPTOR.fields_by_name[path[-1]]
        holder.ClearField(field.name)
        _fill(holder, field, draw, len(path))
    return message
