"""A send during a Kafka outage fails fast and honestly; the retry afterwards lands exactly once."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
import pytest
from prometheus_client import REGISTRY

from parley.adapters.kafka_admin import ensure_topics
from parley.domain.events import MessageSent
from parley.gen.parley.v1 import ingress_pb2
from tests.integration.ingress_harness import PEER, Client, IngressFactory, Topics
from tests.integration.private_kafka import PrivateKafka

pytestmark = pytest.mark.integration

IN_FLIGHT = 6
DEADLINE_S = 10.0  # the clients' deadline on each send
PROMPT_S = 3.0  # how soon after the broker dies a waiting send must be answered


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


# The producer's delivery timeout decides whether the first attempts outlive the outage: with
# the default (8 s) they are given up before the killed broker is back, with a long one they
# are written once it is. Either way every send must be in the log exactly once.
@pytest.mark.parametrize(
    "delivery_timeout_ms", [None, 120_000], ids=["first-attempts-given-up", "first-attempts-land"]
)
async def test_outage__sends_in_flight_fail_fast_then_retries_land_once(
    ingress_factory: IngressFactory,
    private_kafka: PrivateKafka,
    delivery_timeout_ms: int | None,
) -> None:
    timeout = (
        {} if delivery_timeout_ms is None else {"kafka_message_timeout_ms": delivery_timeout_ms}
    )
    topics = Topics("conv", "signals", "bcast", "updates")
    ensure_topics(private_kafka.bootstrap, {"conv": 3, "signals": 1, "bcast": 1, "updates": 1})
    ingress = await ingress_factory(
        topics=topics, kafka_bootstrap=private_kafka.bootstrap, **timeout
    )
    alice = await ingress.client("alice")
    await alice.send(PEER, "bob", text="before the outage")

    # Pause the broker: the sends' produce requests reach its socket and wait there, unanswered.
    private_kafka.pause()
    settled = _unacknowledged()
    texts = {uuid.uuid4().hex: f"in flight {n}" for n in range(IN_FLIGHT)}
    sends = [asyncio.create_task(_refused(alice, cmid, text)) for cmid, text in texts.items()]
    await _wait_until(lambda: _unacknowledged() >= settled + IN_FLIGHT, timeout_s=5)

    # Kill it: its connections close, and the producer learns that every broker is down.
    killed = time.monotonic()
    private_kafka.kill()
    for answered, error in await asyncio.gather(*sends):
        assert error.code() == grpc.StatusCode.UNAVAILABLE, error
        assert dict(error.trailing_metadata() or ())["parley-reason-code"] == "9001"
        assert answered - killed < PROMPT_S

    # Back up: each send retried with its client_message_id lands, or meets its first attempt.
    await asyncio.to_thread(private_kafka.start)
    for cmid, text in texts.items():
        reply = await _accepted(alice, cmid, text)
        if delivery_timeout_ms is not None:
            assert reply.duplicate  # the first attempt was written after all; the retry met it
        again = await alice.send(PEER, "bob", text=text, cmid=cmid, deadline_s=DEADLINE_S)
        assert again.duplicate and again.message_id == reply.message_id

    # Nothing is left with the producer that could still land; the log holds each send once.
    await _wait_until(lambda: _unacknowledged() <= settled, timeout_s=15)
    sends_logged = [e.payload for *_, e in ingress.events() if isinstance(e.payload, MessageSent)]
    assert all(n == 1 for n in Counter(p.message_id for p in sends_logged).values())
    logged_texts = sorted(p.content.text for p in sends_logged)  # type: ignore[union-attr]
    assert logged_texts == sorted(["before the outage", *texts.values()])


def _unacknowledged() -> float:
    return REGISTRY.get_sample_value("parley_kafka_unacknowledged_events") or 0.0


async def _wait_until(condition: Callable[[], bool], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


async def _refused(client: Client, cmid: str, text: str) -> tuple[float, grpc.aio.AioRpcError]:
    """When the send was answered, and its error; it must not be accepted."""
    try:
        await client.send(PEER, "bob", text=text, cmid=cmid, deadline_s=DEADLINE_S)
    except grpc.aio.AioRpcError as error:
        return time.monotonic(), error
    raise AssertionError(f"{text!r} was accepted by a paused broker")


async def _accepted(client: Client, cmid: str, text: str) -> ingress_pb2.SendMessageResponse:
    """Retries as a client would while the ingress still answers UNAVAILABLE."""
    deadline = time.monotonic() + 60
    while True:
        try:
            return await client.send(PEER, "bob", text=text, cmid=cmid, deadline_s=DEADLINE_S)
        except grpc.aio.AioRpcError as error:
            if error.code() != grpc.StatusCode.UNAVAILABLE or time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.5)
