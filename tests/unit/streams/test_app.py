"""The projector's Faust app fetches in batches when busy: the fetcher aiokafka starts for the
worker's consumer asks the broker for 64 KB or 50 ms per fetch, which Faust's own consumer does
not; below the busy pace it asks for the first record or 500 ms (an idle stack's CPU)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from faust.transport.drivers import aiokafka as faust_aiokafka
from prometheus_client import REGISTRY

from parley.config import Settings
from streams.app import (
    BUSY_EVENTS_PER_S,
    FETCH_MAX_WAIT_MS,
    FETCH_MIN_BYTES,
    QUIET_FETCH_MAX_WAIT_MS,
    QUIET_FETCH_MIN_BYTES,
    ProjectorApp,
    create_app,
)


@contextlib.asynccontextmanager
async def started(consumer: Any) -> AsyncIterator[Any]:
    """The fetcher the consumer starts, whose values aiokafka puts into every FetchRequest; no
    broker: the connection steps before it are skipped."""

    async def connected(*_: Any, **__: Any) -> None:
        return None

    consumer._client.bootstrap = connected
    consumer._wait_topics = connected
    await consumer.start()
    try:
        yield consumer._fetcher
    finally:
        await consumer.stop()


async def started_fetcher(consumer: Any) -> tuple[int, int]:
    """(min bytes, max wait ms) of the fetcher the consumer starts."""
    async with started(consumer) as fetcher:
        return fetcher._fetch_min_bytes, fetcher._fetch_max_wait_ms


async def test_app__the_worker_consumer_fetches_64_kb_or_50_ms_at_a_time() -> None:
    app = create_app(Settings(), "unit-test-app")
    thread = app.consumer._thread  # type: ignore[attr-defined]
    transport: Any = app.transport
    consumer = thread._create_worker_consumer(transport)
    assert await started_fetcher(consumer) == (FETCH_MIN_BYTES, FETCH_MAX_WAIT_MS)
    # Faust's own consumer thread, given the same app, has the broker answer at one byte.
    stock = faust_aiokafka.AIOKafkaConsumerThread._create_worker_consumer(thread, transport)
    assert (await started_fetcher(stock))[0] == 1


async def test_app__fetches_turn_quiet_below_the_busy_pace_and_back_at_the_next_fetch() -> None:
    app = create_app(Settings(), "unit-test-tuning")
    assert isinstance(app, ProjectorApp)
    thread = app.consumer._thread  # type: ignore[attr-defined]
    consumer = thread._create_worker_consumer(app.transport)

    async with started(consumer) as fetcher:
        app.fetch_tuning.observe(BUSY_EVENTS_PER_S - 1)  # the started fetcher follows at once
        assert (fetcher._fetch_min_bytes, fetcher._fetch_max_wait_ms) == (
            QUIET_FETCH_MIN_BYTES,
            QUIET_FETCH_MAX_WAIT_MS,
        )
        assert REGISTRY.get_sample_value("parley_projector_fetch_busy") == 0
        app.fetch_tuning.observe(BUSY_EVENTS_PER_S)
        assert REGISTRY.get_sample_value("parley_projector_fetch_busy") == 1
        assert (fetcher._fetch_min_bytes, fetcher._fetch_max_wait_ms) == (
            FETCH_MIN_BYTES,
            FETCH_MAX_WAIT_MS,
        )
