"""Fixtures of the integration suite: real ingress servers over real Kafka, on per-test topics."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import grpc
import pytest

from parley.adapters.kafka import KafkaEventLog
from parley.adapters.kafka_admin import delete_topics, ensure_topics
from parley.config import DEV_ADMIN_SECRET, Settings
from parley.domain.log_streams import Stream
from parley.gen.parley.v1 import ingress_pb2_grpc
from services.ingress.app import ingress_parts
from services.ingress.server import start_server
from services.shell.server import RunningServer
from tests.integration.ingress_harness import Ingress, IngressFactory, Topics


@pytest.fixture
async def ingress_factory(
    kafka_bootstrap: str, unique_name: Callable[[str], str], tmp_path: Path
) -> AsyncIterator[IngressFactory]:
    """Starts ingress servers on fresh topics; several may share topics (`topics=`)."""
    created: list[str] = []
    stack: list[tuple[Any, RunningServer, grpc.aio.Channel]] = []

    async def start(topics: Topics | None = None, **overrides: Any) -> Ingress:
        if topics is None:
            topics = Topics(*(unique_name(n) for n in ("conv", "signals", "bcast", "updates")))
            ensure_topics(
                kafka_bootstrap,
                {
                    topics.conversation_events: 3,
                    topics.signals: 3,
                    topics.broadcasts: 1,
                    topics.user_updates: 3,
                },
            )
            created.extend(topics.all())
        media_prefix = overrides.pop("media_prefix", None)
        overrides.setdefault("kafka_bootstrap", kafka_bootstrap)
        settings = Settings(
            topic_conversation_events=topics.conversation_events,
            topic_signals=topics.signals,
            topic_broadcasts=topics.broadcasts,
            topic_user_updates=topics.user_updates,
            admin_secret=DEV_ADMIN_SECRET,
            **overrides,
        )
        # MediaService always runs over a fresh namespace of the bucket.
        prefix = media_prefix or unique_name("test-media") + "/"
        parts_cm = ingress_parts(settings, media_prefix=prefix)
        parts = await parts_cm.__aenter__()
        media = parts.media
        running = await start_server(
            parts.context, parts.authenticator, "127.0.0.1:0", parts.mounts
        )
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{running.port}")
        stack.append((parts_cm, running, channel))
        return Ingress(
            running, settings, topics, channel, ingress_pb2_grpc.AdminServiceStub(channel), media
        )

    yield start
    for parts_cm, running, channel in reversed(stack):
        await channel.close()
        await running.stop(0.5)
        await parts_cm.__aexit__(None, None, None)
    delete_topics(kafka_bootstrap, created)


@pytest.fixture
async def ingress(ingress_factory: IngressFactory) -> Ingress:
    result: Ingress = await ingress_factory()
    return result


@pytest.fixture
async def media_ingress(
    request: pytest.FixtureRequest,
    ingress_factory: IngressFactory,
    unique_name: Callable[[str], str],
) -> AsyncIterator[Ingress]:
    """An ingress with MediaService mounted, its objects under a fresh prefix of the bucket;
    settings overrides come as the parameter of an indirect parametrization."""
    overrides = getattr(request, "param", {})
    started: Ingress = await ingress_factory(
        media_prefix=unique_name("test-media") + "/", **overrides
    )
    yield started
    assert started.media is not None
    store = started.media.store
    await store.abort_incomplete_uploads("", 2**62)
    await store.delete([info.key for info in await store.list("")])


@pytest.fixture
async def events_topic(
    kafka_bootstrap: str, unique_name: Callable[[str], str]
) -> AsyncIterator[str]:
    """A conversation-events topic of three partitions of the test's own, deleted afterwards."""
    name = unique_name("conv-events")
    ensure_topics(kafka_bootstrap, {name: 3})
    yield name
    delete_topics(kafka_bootstrap, [name])


@pytest.fixture
async def event_log(kafka_bootstrap: str, events_topic: str) -> AsyncIterator[KafkaEventLog]:
    """A Kafka event log appending conversation events to `events_topic`."""
    log = KafkaEventLog(kafka_bootstrap, {Stream.CONVERSATION_EVENTS: events_topic})
    await log.start()
    yield log
    await log.close()
