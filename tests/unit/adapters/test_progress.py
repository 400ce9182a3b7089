"""Feed progress: waiters resolve as offsets are handed over, fail with the feed, time out."""

from __future__ import annotations

import asyncio

import pytest

from parley.adapters.progress import FeedProgress
from parley.ports import EventLogUnavailable


async def test_progress__waiter_resolves_once_its_offset_is_handed_over() -> None:
    progress = FeedProgress()
    waiter = asyncio.ensure_future(progress.wait_for("t", 0, 4, timeout_s=5))
    progress.advance("t", 0, 4)  # offsets 0..3 only
    await asyncio.sleep(0)
    assert not waiter.done()
    progress.advance("t", 1, 10)  # another partition does not count
    await asyncio.sleep(0)
    assert not waiter.done()
    progress.advance("t", 0, 5)
    await asyncio.wait_for(waiter, 1)
    assert progress.next_offset("t", 0) == 5


async def test_progress__never_goes_backwards() -> None:
    progress = FeedProgress()
    progress.advance("t", 0, 7)
    progress.advance("t", 0, 3)
    assert progress.next_offset("t", 0) == 7


async def test_progress__waiter_times_out_and_is_forgotten() -> None:
    progress = FeedProgress()
    with pytest.raises(TimeoutError, match=r"t\[0\] offset 2"):
        await progress.wait_for("t", 0, 2, timeout_s=0.01)
    progress.advance("t", 0, 3)  # resolving a forgotten waiter must not blow up


async def test_progress__failure_reaches_present_and_future_waiters() -> None:
    progress = FeedProgress()
    progress.expect({("t", 0): 1})
    waiter = asyncio.ensure_future(progress.wait_for("t", 0, 0, timeout_s=5))
    caught_up = asyncio.ensure_future(progress.wait_caught_up(timeout_s=5))
    await asyncio.sleep(0)
    progress.fail(EventLogUnavailable("gone"))
    with pytest.raises(EventLogUnavailable):
        await waiter
    with pytest.raises(EventLogUnavailable):
        await caught_up
    with pytest.raises(EventLogUnavailable):
        await progress.wait_for("t", 0, 0, timeout_s=5)


async def test_progress__caught_up_once_every_end_offset_is_reached() -> None:
    progress = FeedProgress()
    progress.expect({("t", 0): 2, ("t", 1): 0})
    with pytest.raises(TimeoutError):
        await progress.wait_caught_up(timeout_s=0.01)
    progress.advance("t", 0, 2)
    await progress.wait_caught_up(timeout_s=1)
