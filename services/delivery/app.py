"""Composition root of delivery: the log followers, the read-model reader and the session wiring."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from functools import partial
from typing import Any

from parley.adapters.cassandra import connect_configured
from parley.adapters.cassandra_message_archive import CassandraMessageArchive
from parley.adapters.cassandra_queries import CassandraReadModelQueries
from parley.adapters.kafka import KafkaEventFeed, KafkaEventLog
from parley.adapters.kafka_feed import close_together
from parley.adapters.kafka_tail import KafkaTail
from parley.adapters.tokens import TokenAuthority
from parley.checkpointing import restore_with_settings
from parley.config import Settings
from parley.domain.delivery_fold import DELIVERY_FOLD, DeliveryFold
from services.delivery.acks import DeliveredAcks
from services.delivery.connect import DeliveryContext
from services.delivery.presence import Presence
from services.delivery.resume import GapFiller
from services.delivery.router import Router, TailTopics
from services.delivery.sessions import SessionRegistry
from services.shell.clock import random_id

# How long start-up may take to fold the existing conversation log.
CATCH_UP_TIMEOUT_S = 600.0


@dataclass
class DeliveryParts:
    context: DeliveryContext
    router: Router
    feed: KafkaEventFeed


@contextlib.asynccontextmanager
async def delivery_parts(settings: Settings, node_id: str = "") -> AsyncIterator[DeliveryParts]:
    """Follows the logs, folds the conversation log up to its end, yields the wiring."""
    node_id = node_id or random_id("delivery-")[:17]
    registry = SessionRegistry()
    windows = settings.fold_windows()
    restored, start_at = await restore_with_settings(
        settings, DELIVERY_FOLD, partial(DeliveryFold.from_document, windows=windows)
    )
    fold = restored or DeliveryFold(windows)
    topics = TailTopics(settings.topic_signals, settings.topic_broadcasts,
                        settings.topic_user_updates)  # fmt: skip
    router = Router(fold, registry, topics)
    feed = KafkaEventFeed(settings.kafka_bootstrap, router,
                          (settings.topic_conversation_events,), client_id=node_id,
                          start_at=start_at)  # fmt: skip
    tail = KafkaTail(settings.kafka_bootstrap,
                     (topics.signals, topics.broadcasts, topics.user_updates),
                     router.on_records, client_id=f"{node_id}-tail")  # fmt: skip
    event_log = KafkaEventLog(settings.kafka_bootstrap, settings.topics(), client_id=node_id)
    cluster: Any = None
    acks: DeliveredAcks | None = None
    try:
        cluster, session = await asyncio.to_thread(connect_configured, settings)
        acks = DeliveredAcks(fold.model, event_log, CassandraMessageArchive(session))
        history = CassandraReadModelQueries(session)
        await tail.start()
        await feed.start()
        await feed.wait_caught_up(CATCH_UP_TIMEOUT_S)
        await event_log.start()
        tokens = TokenAuthority(settings.token_secret, default_ttl_s=settings.token_ttl_s)
        context = DeliveryContext(registry, GapFiller(fold, history), acks,
                                  Presence(fold, registry), tokens, node_id)  # fmt: skip
        yield DeliveryParts(context, router, feed)
    finally:
        if acks is not None:
            await acks.close()
        await close_together(tail.close(), feed.close(), event_log.close())
        if cluster is not None:
            await asyncio.to_thread(cluster.shutdown)
