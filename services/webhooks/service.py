"""The webhook dispatcher: endpoints followed, events consumed, deliveries and redeliveries."""

from __future__ import annotations

import asyncio
import logging

import aiohttp

from parley.adapters.kafka_records import KafkaRecordWriter
from parley.config import Settings
from parley.integration import EventConsumer, StartAt
from services.webhooks.dispatcher import Dispatcher
from services.webhooks.endpoints import EndpointDirectory
from services.webhooks.redeliveries import Redeliveries
from services.webhooks.topics import ensure_topics

log = logging.getLogger(__name__)
# A new group starts at the log's end: webhooks are for what happens from now on.
NEW_GROUP_START = StartAt.committed(fallback="latest")


class WebhookService:
    """`run` returns after `stop()` (or SIGTERM/SIGINT with `handle_signals`), once the batch in
    hand is delivered and committed."""

    def __init__(self, settings: Settings, start: StartAt = NEW_GROUP_START) -> None:
        self._settings = settings
        self.consumer = EventConsumer(
            settings.kafka_bootstrap,
            settings.webhook_group,
            [settings.topic_conversation_events, settings.topic_broadcasts],
            start,
            client_id="parley-webhooks",
        )
        self.dispatcher: Dispatcher | None = None
        self.ready = asyncio.Event()

    def stop(self) -> None:
        self.consumer.stop()

    async def run(self, handle_signals: bool = True) -> None:
        settings = self._settings
        await asyncio.to_thread(ensure_topics, settings)
        directory = EndpointDirectory(settings.kafka_bootstrap, settings.webhook_topic_endpoints)
        await directory.start()
        writer = KafkaRecordWriter(settings.kafka_bootstrap, "parley-webhooks")
        connector = aiohttp.TCPConnector(limit=settings.webhook_concurrency)
        try:
            async with aiohttp.ClientSession(connector=connector) as http:
                self.dispatcher = Dispatcher(directory, writer, http, settings)
                redeliveries = Redeliveries(
                    settings.kafka_bootstrap,
                    settings.webhook_group,
                    settings.webhook_topic_redeliveries,
                    directory,
                    self.dispatcher,
                )
                redelivering = asyncio.create_task(redeliveries.run())
                self.ready.set()
                log.info("webhook dispatcher running (group %s)", settings.webhook_group)
                try:
                    await self.consumer.run_batches(
                        self.dispatcher.dispatch, handle_signals=handle_signals
                    )
                finally:
                    redeliveries.stop()
                    await redelivering
        finally:
            await writer.close()
            await directory.close()
