"""Audit bounds: digits are offsets, anything else an ISO-8601 time (UTC when no zone)."""

from __future__ import annotations

import pytest

from parley.domain.audit_bounds import (
    BadBound,
    OffsetBound,
    TimeBound,
    format_time,
    parse_bound,
)


@pytest.mark.parametrize(
    ("text", "bound"),
    [
        ("1234", OffsetBound(1234)),
        ("2026-12-03T10:00:00Z", TimeBound(1_796_292_000_000)),
        ("2026-12-03T10:00Z", TimeBound(1_796_292_000_000)),
        ("2026-12-03 11:00:00.250+01:00", TimeBound(1_796_292_000_250)),
        ("2026-12-03T10:00:00", TimeBound(1_796_292_000_000)),
    ],
)
def test_parse_bound__offsets_and_times(text: str, bound: object) -> None:
    assert parse_bound(text) == bound


def test_parse_bound__refuses_anything_else() -> None:
    with pytest.raises(BadBound, match="neither an offset"):
        parse_bound("yesterday")


def test_format_time__round_trips_through_parse() -> None:
    assert parse_bound(format_time(1_796_292_000_250)) == TimeBound(1_796_292_000_250)
