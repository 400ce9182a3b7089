"""The read-model agent: conversation events -> batches -> Projector, intake overlapping writes."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

import faust
from faust.types import TP
from mode import CrashingSupervisor

from parley import metrics
from parley.adapters.wire import UndecodableEvent, decode_event
from parley.domain.events import Logged, Position
from streams.projector import BatchStats, Projector

log = logging.getLogger(__name__)

BATCH_MAX = 40_000  # events per batch when catching up: bigger batches coalesce more rows
BATCH_SMALL = 200  # below this many waiting events, a batch waits BATCH_WINDOW_S for more
BATCH_WINDOW_S = 0.02  # live: bounds the extra latency of gathering a batch
RETRY_FIRST_S = 0.1  # a batch that failed to store is tried again after this, doubling...
RETRY_MAX_S = 5.0  # ...up to this, for as long as it takes (the log and the store recover)
TUNING_INTERVAL_S = 1.0  # how often the fetch sizes follow the log's pace (streams.app)


class Intake:
    """Events Faust handed over and the projector has not taken yet.

    Faust keeps filling it while the projector writes the previous batch, so fetching and
    writing overlap; the projector takes whatever is waiting (up to BATCH_MAX), so batches are
    large while catching up and small, hence fast, when live. Bounded: `put` waits while a
    full batch is waiting, which back-pressures Faust's consumer.
    """

    def __init__(self, limit: int = BATCH_MAX) -> None:
        self._limit = limit
        self._events: list[Any] = []
        self._waiting = asyncio.Event()
        self._room = asyncio.Event()
        self._room.set()
        self._revoked: set[TP] = set()  # since the last take: not the writer's to store
        self.taken = 0  # events handed to the writer so far: the pace of the log

    async def put(self, event: Any) -> None:
        self._events.append(event)
        self._waiting.set()
        if len(self._events) >= self._limit:
            self._room.clear()
            await self._room.wait()  # close() opens it too: the agent then sees the writer done

    async def take(self) -> list[Any]:
        await self._waiting.wait()
        if len(self._events) < BATCH_SMALL:
            await asyncio.sleep(BATCH_WINDOW_S)
        batch, self._events = self._events[: self._limit], self._events[self._limit :]
        if not self._events:
            self._waiting.clear()
        self._room.set()
        self._revoked.clear()
        self.taken += len(batch)
        return batch

    def revoke(self, partitions: set[TP]) -> None:
        """Drops what waits from partitions this worker no longer owns, as Faust drops its own
        buffers: on the next assignment Faust hands them over again from the committed offset,
        and an event kept from before would be stored ahead of the ones it precedes."""
        self._revoked |= partitions
        self._events = [event for event in self._events if event.message.tp not in partitions]
        if not self._events:
            self._waiting.clear()
        self._room.set()

    def owned(self, batch: list[Any]) -> list[Any]:
        """The events of the last batch taken whose partitions were not revoked since."""
        if not self._revoked:
            return batch
        return [event for event in batch if event.message.tp not in self._revoked]

    def close(self) -> None:
        """Lets a waiting `put` return: the writer stopped and takes no more."""
        self._room.set()


def decode_batch(events: Sequence[Any]) -> list[Logged]:
    """Logged events of a Faust batch; undecodable records are skipped (they stay in the log)."""
    batch: list[Logged] = []
    for event in events:
        message = event.message
        try:
            logged_event = decode_event(message.value)
        except UndecodableEvent:
            log.exception("skipped an undecodable record at %s", message.tp)
            continue
        batch.append(
            Logged(logged_event, Position(message.partition, message.offset), message.topic)
        )
    return batch


async def write_batches(
    intake: Intake,
    target: Projector,
    stream: Any,
    highwater: Callable[[TP], int | None],
    retry_first_s: float = RETRY_FIRST_S,
) -> None:
    """Applies batches in log order; acks their events only once the store has them.

    A batch that fails to store (the log down for its notices, Cassandra without a quorum) is
    applied again, with backoff, until it is stored: the next batch may not go first, or its
    conversations would move on without the failed events, every later seq short of a replay.
    """
    try:
        while True:
            events = await intake.take()
            started = time.perf_counter()
            stats, events = await _store(intake, target, events, retry_first_s)
            for event in events:
                await stream.ack(event)
            seconds = time.perf_counter() - started
            observe(events, stats.events, seconds, highwater)
            log.info("projected %s in %.0f ms", stats, seconds * 1000)
    finally:
        intake.close()


async def _store(
    intake: Intake, target: Projector, events: list[Any], retry_first_s: float
) -> tuple[BatchStats, list[Any]]:
    """The batch's stats once stored, and the events stored (the batch less any partition
    revoked while it was failing: the new owner projects those)."""
    wait_s = retry_first_s
    while True:
        try:
            return await target.apply(decode_batch(events)), events
        except Exception:
            metrics.BATCH_RETRIES.inc()
            log.exception(
                "a batch of %d events was not stored; again in %.1f s", len(events), wait_s
            )
        await asyncio.sleep(wait_s)
        wait_s = min(wait_s * 2, RETRY_MAX_S)
        events = intake.owned(events)


def observe(
    events: Sequence[Any], applied: int, seconds: float, highwater: Callable[[TP], int | None]
) -> None:
    """The projector's metrics after a stored batch: counts, time, and the lag left in each
    partition it came from (log end as the consumer saw it, minus the last offset stored)."""
    last: dict[TP, int] = {}
    for event in events:
        tp = event.message.tp
        last[tp] = max(last.get(tp, -1), event.message.offset)
    for tp, offset in last.items():
        end = highwater(tp)
        if end is not None:
            lag = max(0, end - 1 - offset)
            metrics.PROJECTION_LAG.labels(partition=str(tp.partition)).set(lag)
    metrics.BATCH_SECONDS.observe(seconds)
    metrics.BATCH_EVENTS.observe(len(events))
    metrics.EVENTS_APPLIED.inc(applied)  # last: a scraper that sees it sees the rest too


def install(
    app: faust.App,
    topic: str,
    open_projector: Callable[[], Awaitable[Projector]],
    highwater: Callable[[TP], int | None] | None = None,
    retry_first_s: float = RETRY_FIRST_S,
) -> Any:
    """Registers the agent on `topic` and the rebalance hook; returns the agent.

    `open_projector` is awaited once, when the agent first starts (it connects the adapters);
    `highwater` gives a partition's log end as the consumer last saw it (the consumer's own by
    default), for the lag gauge."""
    source = app.topic(topic, internal=False)
    holder: dict[str, Projector] = {}

    def consumer_highwater(tp: TP) -> int | None:
        try:
            end: int | None = app.consumer.highwater(tp)
        except Exception:  # revoked meanwhile (aiokafka raises): no lag to report for it
            return None
        return end

    log_end = highwater if highwater is not None else consumer_highwater

    intakes: list[Intake] = []

    # Crashing, not Faust's default of restarting the agent: a restarted agent goes on at the
    # consumer's position, past the events the dead one held but never stored. A worker that
    # exits starts again at the committed offset (the supervisor, `parley run` or the
    # platform, restarts it), and the projector's positions skip what was stored.
    @app.agent(source, name="read_models", supervisor_strategy=CrashingSupervisor)
    async def read_models(stream: Any) -> AsyncIterator[None]:
        if "p" not in holder:
            holder["p"] = await open_projector()
        manual = stream.noack()  # events are acked by write_batches, after they are stored
        intake = Intake()
        intakes[:] = [intake]
        writer = asyncio.ensure_future(
            write_batches(intake, holder["p"], manual, log_end, retry_first_s)
        )
        try:
            async for event in manual.events():
                if writer.done():
                    break
                await intake.put(event)
            if writer.done():
                writer.result()  # raises what stopped the writer
        finally:
            writer.cancel()
        yield  # pragma: no cover (an agent must be a generator to be a Faust agent)

    tuning = getattr(app, "fetch_tuning", None)  # streams.app.FetchTuning
    if tuning is not None:
        paced = [0]

        @app.timer(TUNING_INTERVAL_S, name="fetch_tuning")  # type: ignore[untyped-decorator]
        async def tune_fetches() -> None:
            """Busy or quiet fetches after the events of the last interval."""
            taken = sum(intake.taken for intake in intakes)
            tuning.observe(max(0, taken - paced[0]) / TUNING_INTERVAL_S)
            paced[0] = taken

    @app.on_partitions_revoked.connect
    async def forget_states(sender: Any, /, *args: Any, signal: Any, **__: Any) -> None:
        revoked: set[TP] = set(args[0]) if args else set()  # Faust sends the revoked set
        for intake in intakes:
            intake.revoke(revoked)
        if "p" in holder:
            holder["p"].forget()
        metrics.PROJECTION_LAG.clear()  # partitions this worker may no longer own

    return read_models
