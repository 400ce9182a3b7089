"""parley.integration on the real Kafka: typed events, commit after the handler, start points."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from parley.adapters.kafka import KafkaEventLog
from parley.domain.events import MessageSent, TextContent
from parley.integration import Delivered, EventConsumer, StartAt
from tests.integration.integration_events import text_event

pytestmark = pytest.mark.integration
TIMEOUT_S = 30


@dataclass(frozen=True)
class Consumers:
    """Makes consumers of one topic of the test's own, each in the group it is given."""

    bootstrap: str
    topic: str

    def __call__(self, group: str, start: StartAt) -> EventConsumer:
        return EventConsumer(self.bootstrap, group, [self.topic], start)


@pytest.fixture
def consumers(kafka_bootstrap: str, events_topic: str) -> Consumers:
    return Consumers(kafka_bootstrap, events_topic)


async def _collect(
    consumer: EventConsumer, until: int | str, fail_on: str | None = None
) -> list[Delivered]:
    """Runs `consumer` until `until` events (or the text `until`) arrived; its handler raises
    on the text `fail_on`."""
    got: list[Delivered] = []

    async def handle(delivered: Delivered) -> None:
        payload = delivered.event.payload
        assert isinstance(payload, MessageSent) and isinstance(payload.content, TextContent)
        if payload.content.text == fail_on:
            raise RuntimeError("handler failed")
        got.append(delivered)
        if len(got) == until or payload.content.text == until:
            consumer.stop()

    await asyncio.wait_for(consumer.run(handle, handle_signals=False), TIMEOUT_S)
    return got


def _texts(got: list[Delivered]) -> list[str]:
    texts = []
    for delivered in got:
        payload = delivered.event.payload
        assert isinstance(payload, MessageSent) and isinstance(payload.content, TextContent)
        texts.append(payload.content.text)
    return texts


async def test_integration_consumer__commits_only_after_the_handler_returns(
    event_log: KafkaEventLog, consumers: Consumers, unique_name: Callable[[str], str]
) -> None:
    group = unique_name("group")
    await event_log.append_many([text_event("g:one", t) for t in ("a", "b", "boom", "c")])
    # The handler fails on "boom": the consumer stops with the error, "a" and "b" handled.
    first = consumers(group, StartAt.committed())
    with pytest.raises(RuntimeError, match="handler failed"):
        await _collect(first, until=10, fail_on="boom")
    # Nothing of the failed batch was committed: a restart hands all of it again, in order.
    again = await _collect(consumers(group, StartAt.committed()), "c")
    assert _texts(again)[-2:] == ["boom", "c"]  # "a" and "b" too unless fetched apart
    # Now committed: the next start of the group sees only what came after.
    await event_log.append(text_event("g:one", "d"))
    resumed = await _collect(consumers(group, StartAt.committed()), 1)
    assert _texts(resumed) == ["d"]
    assert resumed[0].event.conversation_key == "g:one" and resumed[0].topic == consumers.topic


async def test_integration_consumer__earliest_latest_and_time(
    event_log: KafkaEventLog, consumers: Consumers, unique_name: Callable[[str], str]
) -> None:
    await event_log.append_many([text_event("g:two", t) for t in ("old-1", "old-2")])
    await asyncio.sleep(0.05)  # Kafka timestamps are ms: keep "old" strictly before `moment`
    moment = int(time.time() * 1000)
    await event_log.append(text_event("g:two", "new-1"))
    earliest = consumers(unique_name("g"), StartAt.earliest())
    assert _texts(await _collect(earliest, 3)) == ["old-1", "old-2", "new-1"]
    since = consumers(unique_name("g"), StartAt.time(moment))
    assert _texts(await _collect(since, 1)) == ["new-1"]
    # latest: nothing from before; markers go on until the first is seen (the end is resolved
    # on the first fetch after the assignment, so an early marker may fall before it).
    latest = consumers(unique_name("g"), StartAt.latest())
    collecting = asyncio.create_task(_collect(latest, 1))
    while not collecting.done():
        await event_log.append(text_event("g:two", "after"))
        await asyncio.wait([collecting], timeout=0.3)
    assert _texts(await collecting) == ["after"]
