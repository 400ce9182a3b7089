"""Appends a log has taken and not yet settled: who waits for them, and the outage that lets go.

An append waits for the log's report on each of its records. When the log goes down, waiting
until the producer's own timeout would hold every caller for seconds; `PendingAppends.outage`
answers them at once with an outcome-unknown EventLogUnavailable instead, while the records
stay with the log, which may still write them. The same append can then be waited for again
(a retry joins it instead of appending a second record) and reports its final outcome.
All methods run on the event loop's thread.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from parley.domain.events import Position
from parley.ports import EventLogUnavailable

log = logging.getLogger(__name__)

Settled = Callable[[list[Position] | None], None]


class _LetGo(Exception):
    """An outage released this waiter; the record itself is still with the log."""


class Delivery:
    """One record handed to the log, until the log reports it: a Position, or why it failed."""

    __slots__ = ("_waiters", "_watchers", "outcome", "timer")

    def __init__(self) -> None:
        self._waiters: list[asyncio.Future[Position]] = []
        self._watchers: list[Callable[[], None]] = []
        self.outcome: Position | str | None = None
        self.timer: asyncio.TimerHandle | None = None

    def waiter(self) -> asyncio.Future[Position]:
        future: asyncio.Future[Position] = asyncio.get_running_loop().create_future()
        if self.outcome is None:
            self._waiters.append(future)
        else:
            _resolve(future, self.outcome)
        return future

    @property
    def waiting(self) -> int:
        return len(self._waiters)

    def watch(self, callback: Callable[[], None]) -> None:
        if self.outcome is None:
            self._watchers.append(callback)
        else:
            callback()

    def settle(self, outcome: Position | str) -> None:
        if self.outcome is not None:
            return
        self.outcome = outcome
        if self.timer is not None:
            self.timer.cancel()
        for callback in self._watchers:
            try:
                callback()
            except Exception:  # one watcher's bug must not keep the waiters waiting
                log.exception("a watcher of an append failed")
        for waiter in self._waiters:
            if not waiter.done():
                _resolve(waiter, outcome)
        self._watchers.clear()
        self._waiters.clear()

    def let_go(self) -> None:
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_exception(_LetGo())
        self._waiters.clear()


class PendingAppends:
    """The records of one log not yet settled, and whether the log is down right now."""

    def __init__(self, is_down: Callable[[], bool]) -> None:
        self.is_down = is_down
        self._open: set[Delivery] = set()

    def __len__(self) -> int:
        return len(self._open)

    def waiting(self) -> int:
        """Callers waiting for a record right now (an append, or a retry that joined it)."""
        return sum(delivery.waiting for delivery in self._open)

    def open(self, records: int) -> PendingAppend:
        deliveries = [Delivery() for _ in range(records)]
        self._open.update(deliveries)
        return PendingAppend(self, deliveries)

    def settle(self, delivery: Delivery, outcome: Position | str) -> bool:
        """Settles a record; False if it was settled already (a late report after the timer)."""
        if delivery not in self._open:
            return False
        self._open.discard(delivery)
        delivery.settle(outcome)
        return True

    def outage(self) -> None:
        """The log went down: everyone waiting for a record is answered now, outcome unknown."""
        for delivery in self._open:
            delivery.let_go()


class PendingAppend:
    """The records of one append, as handed to the log: the UnsettledAppend of the port."""

    def __init__(self, appends: PendingAppends, deliveries: list[Delivery]) -> None:
        self._appends = appends
        self.deliveries = deliveries

    async def wait(self) -> list[Position]:
        positions: list[Position] = []
        for delivery in self.deliveries:
            if delivery.outcome is None and self._appends.is_down():
                raise self._unknown()
            try:
                positions.append(await delivery.waiter())
            except _LetGo:
                raise self._unknown() from None
        return positions

    def when_settled(self, callback: Settled) -> None:
        left = len(self.deliveries)
        if left == 0:
            callback([])

        def one_settled() -> None:
            nonlocal left
            left -= 1
            if left == 0:
                outcomes = [delivery.outcome for delivery in self.deliveries]
                written = [o for o in outcomes if isinstance(o, Position)]
                callback(written if len(written) == len(outcomes) else None)

        for delivery in self.deliveries:
            delivery.watch(one_settled)

    def _unknown(self) -> EventLogUnavailable:
        return EventLogUnavailable(
            "the event log went down before acknowledging the append; it may still be written",
            unsettled=self,
        )


def _resolve(future: asyncio.Future[Position], outcome: Position | str) -> None:
    if isinstance(outcome, Position):
        future.set_result(outcome)
    else:
        future.set_exception(EventLogUnavailable(outcome))
