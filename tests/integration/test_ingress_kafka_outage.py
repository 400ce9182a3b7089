"""A send during a Kafka outage fails fast and honestly; the retry afterwards lands exactly once."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from parley.adapters.kafka_admin import ensure_topics
from parley.domain.events import MessageSent
from tests.integration.ingress_harness import PEER, IngressFactory, Topics
from tests.integration.private_kafka import PrivateKafka

pytestmark = pytest.mark.integration


@pytest.fixture
def private_kafka(kafka_bootstrap: str, tmp_path: Path) -> Iterator[PrivateKafka]:
    # kafka_bootstrap: the shared stack must be installed and up (same jars, same Java).
    broker = PrivateKafka(tmp_path / "kafka")
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


async def test_outage__send_fails_with_unavailable_then_retry_lands_once(
    ingress_factory: IngressFactory, private_kafka: PrivateKafka
) -> None:
    topics = Topics("conv", "signals", "bcast", "updates")
    ensure_topics(private_kafka.bootstrap, {"conv": 3, "signals": 1, "bcast": 1, "updates": 1})
    ingress = await ingress_factory(topics=topics, kafka_bootstrap=private_kafka.bootstrap)
    alice = await ingress.client("alice")
    await alice.send(PEER, "bob", text="before the outage")

    private_kafka.stop()
    cmid = uuid.uuid4().hex
    started = time.monotonic()
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await alice.send(PEER, "bob", text="during the outage", cmid=cmid)
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    assert dict(caught.value.trailing_metadata() or ())["parley-reason-code"] == "9001"
    assert time.monotonic() - started < 15

    private_kafka.start()
    # As a client would: retry while the ingress still refuses (its producer notices the broker
    # is back on its next probe, a few seconds at most).
    deadline = time.monotonic() + 30
    while True:
        try:
            reply = await alice.send(PEER, "bob", text="during the outage", cmid=cmid)
            break
        except grpc.aio.AioRpcError as error:
            if error.code() != grpc.StatusCode.UNAVAILABLE or time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.5)
    again = await alice.send(PEER, "bob", text="during the outage", cmid=cmid)
    assert again.duplicate and again.message_id == reply.message_id

    sends = [e.payload for _, _, _, e in ingress.events() if isinstance(e.payload, MessageSent)]
    texts = [p.content.text for p in sends]  # type: ignore[union-attr]
    assert texts == ["before the outage", "during the outage"]
