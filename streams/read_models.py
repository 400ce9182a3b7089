"""The read-model agent: conversation events in batches -> Projector (decode, hand over)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Sequence
from typing import Any

import faust

from parley.adapters.cassandra import connect
from parley.adapters.cassandra_read_models import CassandraProjectionStore
from parley.adapters.wire import UndecodableEvent, decode_event
from parley.adapters.wire_read_models import encode_notice
from parley.config import Settings
from parley.domain.events import Logged, Position
from parley.domain.read_models import Notice
from streams.projector import Projector

log = logging.getLogger(__name__)

BATCH_EVENTS = 10_000  # bigger batches coalesce more rows (heads, user rows, states)
BATCH_WITHIN_S = 0.2  # live events wait at most this long for their batch


class FaustNoticeSink:
    """Sends notices keyed by user id on the app's producer and waits for the broker's acks.

    Goes to the producer directly: Topic.send would run Faust's serializer and attachment
    machinery per notice, which costs more than the projection of the event itself."""

    def __init__(self, app: faust.App, topic: str) -> None:
        self._app = app
        self._topic = topic

    async def publish(self, notices: Sequence[Notice]) -> None:
        producer = self._app.producer
        pending = [
            await producer.send(self._topic, n.user_id.encode(), encode_notice(n), None, None, None)
            for n in notices
        ]
        await asyncio.gather(*pending)


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


def install(app: faust.App, settings: Settings) -> None:
    """Registers the agent on the conversation topic and the rebalance hook."""
    source = app.topic(settings.topic_conversation_events, internal=False)
    holder: dict[str, Projector] = {}

    async def projector() -> Projector:
        if "p" not in holder:
            _, session = await asyncio.to_thread(
                connect, settings.cassandra_hosts, settings.cassandra_port,
                settings.cassandra_keyspace,
            )  # fmt: skip
            store = await asyncio.to_thread(CassandraProjectionStore, session)
            notices = FaustNoticeSink(app, settings.topic_user_updates)
            holder["p"] = Projector(store, source.get_topic_name(), notices)
        return holder["p"]

    @app.agent(source, name="read_models")
    async def read_models(stream: Any) -> AsyncIterator[None]:
        target = await projector()
        async for events in stream.take_events(BATCH_EVENTS, within=BATCH_WITHIN_S):
            # Returning from the body is what acks the events: only after Cassandra has them.
            started = time.perf_counter()
            stats = await target.apply(decode_batch(events))
            log.info("projected %s in %.0f ms", stats, (time.perf_counter() - started) * 1000)
        yield  # pragma: no cover (an agent must be a generator to be a Faust agent)

    @app.on_partitions_revoked.connect
    async def forget_states(sender: Any, /, *_: Any, signal: Any, **__: Any) -> None:
        if "p" in holder:
            holder["p"].forget()
