"""Field-by-field copies between flat dataclasses and protobuf messages, matched by field name."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

_M = TypeVar("_M", bound=Message)
_T = TypeVar("_T")

# (dataclass, message) -> (name, "scalar" | "repeated" | "map") of each field both have: worked
# out once per pair, as these copies run on the hot paths of the ingress and the projector.
_SHARED: dict[tuple[type, Any], tuple[tuple[str, str], ...]] = {}


def _shared(cls: type, descriptor: Any) -> tuple[tuple[str, str], ...]:
    shared = _SHARED.get((cls, descriptor))
    if shared is None:
        shared = tuple(
            (field.name, _kind(descriptor.fields_by_name[field.name]))
            for field in dataclasses.fields(cls)
            if field.name in descriptor.fields_by_name
        )
        _SHARED[cls, descriptor] = shared
    return shared


def _kind(field: FieldDescriptor) -> str:
    if field.message_type is not None and field.message_type.GetOptions().map_entry:
        return "map"
    return "repeated" if field.is_repeated else "scalar"


def _same(item: Any) -> Any:
    return item


def _sorted_pairs(item: Any) -> tuple[tuple[Any, Any], ...]:
    return tuple(sorted(item.items()))


# How a value of each kind of field crosses, in each direction.
_TO_MESSAGE: dict[str, Callable[[Any], Any]] = {"scalar": _same, "repeated": list, "map": dict}
_FROM_MESSAGE: dict[str, Callable[[Any], Any]] = {
    "scalar": _same,
    "repeated": tuple,
    "map": _sorted_pairs,
}


def to_message(message_type: type[_M], value: Any, **overrides: Any) -> _M:
    """A `message_type` carrying every field of the dataclass `value` it has by name (tuples of
    (key, value) pairs fill maps), with `overrides` for fields that are named or typed apart."""
    values = dict(overrides)
    for name, kind in _shared(type(value), message_type.DESCRIPTOR):
        if name not in values:
            item = getattr(value, name)
            values[name] = _TO_MESSAGE[kind](item)
    return message_type(**values)


def from_message(cls: type[_T], message: Message, **overrides: Any) -> _T:
    """A `cls` from every field of `message` it has by name (repeated fields as tuples, maps as
    sorted (key, value) pairs), with `overrides` for fields that are named or typed apart."""
    values = dict(overrides)
    for name, kind in _shared(cls, message.DESCRIPTOR):
        if name not in values:
            item = getattr(message, name)
            values[name] = _FROM_MESSAGE[kind](item)
    return cls(**values)
