"""The projector's Faust app fetches in batches: its consumer thread builds aiokafka consumers
with fetch sizes that Faust itself does not pass through."""

from __future__ import annotations

from parley.config import Settings
from streams.app import FETCH_MAX_WAIT_MS, FETCH_MIN_BYTES, _FetchingConsumerThread, create_app


async def test_app__the_worker_consumer_fetches_in_batches() -> None:
    app = create_app(Settings(), "unit-test-app")
    thread = app.consumer._thread  # type: ignore[attr-defined]
    assert isinstance(thread, _FetchingConsumerThread)
    consumer = thread._create_worker_consumer(app.transport)
    # aiokafka hands these two to its fetcher when the consumer starts (aiokafka is pinned).
    assert (consumer._fetch_min_bytes, consumer._fetch_max_wait_ms) == (
        FETCH_MIN_BYTES,
        FETCH_MAX_WAIT_MS,
    )
