"""The projector worker serves its own Prometheus series on its metrics port, and they move as
it projects events (real Kafka, Faust and Cassandra)."""

from __future__ import annotations

import asyncio
import socket
import time
import urllib.request
from collections.abc import Callable

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.projection_harness import (  # noqa: F401 (fixture)
    ProjectionEnv,
    projection_env_fixture,
)
from tests.unit.domain.projection_script import scripted_history

pytestmark = pytest.mark.integration


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(port: int) -> Samples | None:
    """Every sample on the port by (name, labels); None while nothing answers."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as reply:
            text = reply.read().decode()
    except OSError:
        return None
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def scrape_until(
    port: int, done: Callable[[Samples], bool], timeout_s: float = 60
) -> Samples:
    deadline = time.monotonic() + timeout_s
    samples = None
    while time.monotonic() < deadline:
        samples = scrape(port)
        if samples is not None and done(samples):
            return samples
        await asyncio.sleep(0.2)
    raise TimeoutError(f"metrics on :{port} not as expected within {timeout_s} s: {samples}")


APPLIED = ("parley_projector_events_applied_total", ())
BATCHES = ("parley_projector_batch_events_count", ())


async def test_projector_metrics__the_worker_serves_its_series_and_they_follow_the_events(
    projection_env: ProjectionEnv,
) -> None:
    port = free_port()
    projection_env.start_worker(PARLEY_PROJECTOR_METRICS_PORT=str(port))
    # Before any event: the worker answers with its own series at zero.
    idle = await scrape_until(port, lambda s: APPLIED in s)
    assert (idle[APPLIED], idle[BATCHES]) == (0, 0)
    events = [logged.event for logged in scripted_history().logged]
    await projection_env.produce(events)
    await projection_env.wait_applied()
    moved = await scrape_until(port, lambda s: s.get(APPLIED, 0) >= len(events))
    # One worker, no crash: every event applied once, in at least one batch.
    assert moved[APPLIED] == len(events)
    assert moved[BATCHES] >= 1
    assert moved[("parley_projector_batch_seconds_count", ())] == moved[BATCHES]
    # Each partition that received events reports its lag, nothing left once all is applied.
    ends = {p: end for p, end in projection_env.end_offsets().items() if end > 0}
    lags = {
        int(dict(labels)["partition"]): value
        for (name, labels), value in moved.items()
        if name == "parley_projector_lag_events"
    }
    assert lags == dict.fromkeys(ends, 0)
