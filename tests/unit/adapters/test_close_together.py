"""close_together: a service's Kafka clients close at once, and a failing close stops none."""

from __future__ import annotations

import asyncio
import time

import pytest

from parley.adapters.kafka_feed import close_together


async def test_close_together__the_closes_overlap() -> None:
    started = time.perf_counter()
    await close_together(*(asyncio.sleep(0.2) for _ in range(3)))
    assert time.perf_counter() - started < 0.4  # one after another: 0.6 s


async def test_close_together__every_close_ends_and_the_first_failure_is_raised() -> None:
    closed: list[str] = []

    async def close(name: str, fails: bool, seconds: float = 0.01) -> None:
        await asyncio.sleep(seconds)
        closed.append(name)
        if fails:
            raise RuntimeError(name)

    with pytest.raises(RuntimeError, match="tail"):
        await close_together(close("tail", True), close("feed", False, 0.1), close("log", True))
    assert sorted(closed) == ["feed", "log", "tail"]  # the slow feed too, after the failures
