"""Waiting for a log's reports: an outage answers at once, the report still counts later."""

from __future__ import annotations

import asyncio

import pytest

from parley.adapters.pending_appends import PendingAppends
from parley.domain.events import Position
from parley.ports import EventLogUnavailable


class Log:
    def __init__(self) -> None:
        self.down = False
        self.pending = PendingAppends(lambda: self.down)

    def go_down(self) -> None:
        self.down = True
        self.pending.outage()


async def test_pending_appends__report_answers_the_append() -> None:
    log = Log()
    append = log.pending.open(2)
    waiting = asyncio.create_task(append.wait())
    log.pending.settle(append.deliveries[0], Position(0, 7))
    log.pending.settle(append.deliveries[1], Position(1, 3))
    assert await waiting == [Position(0, 7), Position(1, 3)]
    assert len(log.pending) == 0


async def test_pending_appends__outage_answers_at_once_and_the_report_still_counts() -> None:
    log = Log()
    append = log.pending.open(1)
    waiting = asyncio.create_task(append.wait())
    await asyncio.sleep(0)  # the append now waits for its record
    settled: list[list[Position] | None] = []
    append.when_settled(settled.append)

    log.go_down()
    with pytest.raises(EventLogUnavailable) as caught:
        await waiting
    assert caught.value.unsettled is append
    # Waiting again while the log is down is answered at once, still unsettled.
    with pytest.raises(EventLogUnavailable) as again:
        await append.wait()
    assert again.value.unsettled is append

    # Back up: the record is written after all, and whoever waits again gets its position.
    log.down = False
    rejoined = asyncio.create_task(append.wait())
    await asyncio.sleep(0)
    log.pending.settle(append.deliveries[0], Position(2, 5))
    assert await rejoined == [Position(2, 5)]
    assert settled == [[Position(2, 5)]]


async def test_pending_appends__a_record_given_up_settles_as_not_written() -> None:
    log = Log()
    append = log.pending.open(1)
    settled: list[list[Position] | None] = []
    append.when_settled(settled.append)
    log.pending.settle(append.deliveries[0], "message timed out")
    with pytest.raises(EventLogUnavailable) as caught:
        await append.wait()
    assert caught.value.unsettled is None
    assert settled == [None]
    # A late report after the safety timer settled it changes nothing.
    assert not log.pending.settle(append.deliveries[0], Position(0, 1))
