"""Audit bounds: a moment in a conversation's log, given as a Kafka offset or a time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True)
class OffsetBound:
    """An offset in the conversation's partition (a conversation lives in one partition)."""

    offset: int


@dataclass(frozen=True)
class TimeBound:
    """A time, ms since the Unix epoch: resolved against the log's record timestamps."""

    time_ms: int


Bound = OffsetBound | TimeBound


class BadBound(ValueError):
    """Text that is neither an offset nor an ISO-8601 time."""


def parse_bound(text: str) -> Bound:
    """`1234` is an offset; `2026-12-03T10:00:00Z`, `2026-12-03 10:00:00.250+01:00` or
    `2026-12-03` are times (no zone: UTC)."""
    text = text.strip()
    if text.isdigit():
        return OffsetBound(int(text))
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise BadBound(
            f"{text!r} is neither an offset (digits) nor an ISO-8601 time "
            "(e.g. 2026-12-03T10:00:00Z)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return TimeBound(int(moment.timestamp() * 1000))


def format_time(ms: int) -> str:
    """`2026-12-03T10:00:00.123Z`: how audit output shows a time."""
    moment = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def describe(bound: Bound | None) -> str:
    if bound is None:
        return "-"
    if isinstance(bound, OffsetBound):
        return f"offset {bound.offset}"
    return format_time(bound.time_ms)
