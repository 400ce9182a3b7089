"""Delivery's metrics port: a delivery process serves its own series, and they follow sessions."""

from __future__ import annotations

import asyncio
import urllib.request
from collections.abc import Callable

import grpc
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.delivery.harness import connect, free_port, start_delivery_process
from tests.integration.ingress_harness import PEER, IngressFactory

pytestmark = pytest.mark.integration

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(port: int) -> Samples:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
        text = answer.read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def scraped_until(port: int, holds: Callable[[Samples], bool]) -> Samples:
    """Scrapes until `holds` (a session's close reaches the server a moment after the client's)."""
    async with asyncio.timeout(15):
        while True:
            samples = await asyncio.to_thread(scrape, port)
            if holds(samples):
                return samples
            await asyncio.sleep(0.1)  # polls a port: nothing to wait on in-process


async def test_delivery__its_metrics_port_counts_sessions_fills_and_pushed_messages(
    ingress_factory: IngressFactory,
) -> None:
    ingress = await ingress_factory()
    metrics_port = free_port()
    process, port = await start_delivery_process(ingress, "parley", metrics_port)
    try:
        before = await asyncio.to_thread(scrape, metrics_port)
        assert value(before, "parley_delivery_sessions") == 0
        assert value(before, "parley_delivery_pushes_total", kind="message") == 0
        folded = value(before, "parley_delivery_events_folded_total")
        alice, bob = await ingress.client("alice"), await ingress.client("bob")
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            # Bob connects as a new install, then resumes on a second device.
            phone = await connect(channel, "bob", bob.token)
            laptop = await connect(channel, "bob", bob.token, {}, resume=True)
            sessions = await asyncio.to_thread(scrape, metrics_port)
            assert value(sessions, "parley_delivery_sessions") == 2
            assert value(sessions, "parley_delivery_fills_total", mode="fresh") == 1
            assert value(sessions, "parley_delivery_fills_total", mode="resume") == 1
            assert value(sessions, "parley_delivery_fill_seconds_count") == 2
            # Alice sends one message: both of Bob's sessions get it, pushed live.
            key = (await alice.send(PEER, "bob", "hi")).conversation_key
            for session in (phone, laptop):
                await session.wait(lambda s: len(s.messages(key)) == 1)
            pushed = await asyncio.to_thread(scrape, metrics_port)
            assert value(pushed, "parley_delivery_pushes_total", kind="message") == 2
            assert value(pushed, "parley_delivery_events_folded_total") >= folded + 1
            await phone.close()
            await laptop.close()
        await scraped_until(metrics_port, lambda s: value(s, "parley_delivery_sessions") == 0)
    finally:
        process.terminate()
        process.wait(15)
