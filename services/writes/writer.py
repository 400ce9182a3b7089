"""Appends decided events to the log and answers only once the log has acknowledged them."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from parley import metrics
from parley.domain.errors import MAY_BE_STALE, Reason, Rejected
from parley.domain.events import Event, Position
from parley.domain.read_your_writes import WrittenPositions
from parley.ports import EventFeed, EventLog, EventLogUnavailable, UnsettledAppend

log = logging.getLogger(__name__)

T = TypeVar("T")


class EventWriter:
    """The one path from a decision to the log.

    `settle=True` also waits until this process's follower of the log has folded the event into
    the write model, so the caller's next request sees its own change (read-your-writes).
    """

    def __init__(
        self,
        event_log: EventLog,
        feed: EventFeed,
        settle_timeout_s: float = 10.0,
        positions: WrittenPositions | None = None,
    ) -> None:
        self._log = event_log
        self._feed = feed
        self._settle_timeout_s = settle_timeout_s
        self._positions = positions

    async def write(
        self,
        event: Event,
        *,
        settle: bool = False,
        on_unsettled: Callable[[UnsettledAppend], None] | None = None,
    ) -> Position:
        """Rejected with EVENT_LOG_UNAVAILABLE when the log does not acknowledge the event: the
        outcome is unknown then (it may still be written). If the log still holds the append,
        `on_unsettled` gets it first, to follow it (see `follow`)."""
        started = time.perf_counter()
        try:
            position = await self._log.append(event)
        except EventLogUnavailable as error:
            _observe("unavailable", started)
            if error.unsettled is not None and on_unsettled is not None:
                on_unsettled(error.unsettled)
            raise _unavailable(event, error) from error
        _observe("ok", started)
        self._note(event, position)
        if settle:
            try:
                await self._feed.wait_for(position, self._settle_timeout_s)
            except TimeoutError:
                # The event is durable; only our local view lags. Answer success honestly.
                log.warning("write model did not catch up with %s in time", position)
        return position

    async def follow(self, event: Event, unsettled: UnsettledAppend) -> Position | None:
        """Waits for the append of `event` that an outage left unsettled: its position once the
        log writes it, None once the log gave up on it (appending again is then the retry).
        Rejected with EVENT_LOG_UNAVAILABLE at once while the log is still down."""
        try:
            (position,) = await unsettled.wait()
        except EventLogUnavailable as error:
            if error.unsettled is None:
                return None
            raise _unavailable(event, error) from error
        self._note(event, position)
        return position

    def _note(self, event: Event, position: Position) -> None:
        if self._positions is not None:
            # Noted before the answer, so the caller's next read here waits for it.
            self._positions.note(event, position)

    async def decide(self, decide: Callable[[], Awaitable[T]]) -> T:
        """`decide()`, and once more after catching up with the log when it was rejected for a
        reason that may only mean this process has not read the log's latest events yet
        (parley.domain.errors.MAY_BE_STALE): a client can use at once what another process has
        just answered for (a room created through another worker, an upload registered)."""
        try:
            return await decide()
        except Rejected as rejected:
            if rejected.reason not in MAY_BE_STALE:
                raise
            reason = rejected.reason.name
        await self.catch_up()
        try:
            decided = await decide()
        except Rejected:
            metrics.DECIDED_AGAIN.labels(reason=reason, outcome="rejected").inc()
            raise
        metrics.DECIDED_AGAIN.labels(reason=reason, outcome="accepted").inc()
        return decided

    async def catch_up(self) -> None:
        """Brings the write model up to the log's present: what other processes appended (an
        upload registered by the media server, say) becomes visible here. Best effort: on a
        timeout the caller decides on what it has."""
        try:
            await self._feed.catch_up(self._settle_timeout_s)
        except (TimeoutError, EventLogUnavailable) as error:
            log.warning("write model did not catch up with the log: %r", error)


def _observe(outcome: str, started: float) -> None:
    metrics.PRODUCE_LATENCY.labels(outcome=outcome).observe(time.perf_counter() - started)


def _unavailable(event: Event, error: EventLogUnavailable) -> Rejected:
    log.warning("event log unavailable: %s", error, extra={"event_id": event.event_id})
    if error.unsettled is None:
        return Rejected(Reason.EVENT_LOG_UNAVAILABLE, "the event log did not acknowledge the write")
    return Rejected(
        Reason.EVENT_LOG_UNAVAILABLE,
        "the event log went down before acknowledging the write: it may still be written "
        "(a send: retry with the same client_message_id, or ask GetSendStatus)",
    )
