"""Follows the redelivery requests admins append, sending each dead letter to its endpoint again."""

from __future__ import annotations

import asyncio
import logging

from confluent_kafka import Consumer, Message

from parley.gen.parley.v1 import webhooks_pb2
from services.webhooks.dispatcher import Dispatcher, Outgoing
from services.webhooks.endpoints import EndpointDirectory

log = logging.getLogger(__name__)


class Redeliveries:
    """Consumer group `<group>-redeliveries` on the redelivery topic; a request is committed
    after its delivery ended (delivered, or dead-lettered again)."""

    def __init__(
        self,
        bootstrap: str,
        group: str,
        topic: str,
        directory: EndpointDirectory,
        dispatcher: Dispatcher,
    ) -> None:
        self._consumer = Consumer(
            {
                "bootstrap.servers": bootstrap,
                "group.id": f"{group}-redeliveries",
                "enable.auto.commit": False,
                "auto.offset.reset": "earliest",
                "logger": logging.getLogger("librdkafka.redeliveries"),
            }
        )
        self._topic = topic
        self._directory = directory
        self._dispatcher = dispatcher
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        self._consumer.subscribe([self._topic])
        try:
            while not self._stopping.is_set():
                message: Message | None = await asyncio.to_thread(self._consumer.poll, 0.2)
                if message is None or message.error() is not None:
                    continue
                await self._redeliver(message.value() or b"")
                await asyncio.to_thread(self._commit, message)
        finally:
            await asyncio.to_thread(self._consumer.close)

    def _commit(self, message: Message) -> None:
        self._consumer.commit(message=message, asynchronous=False)

    async def _redeliver(self, value: bytes) -> None:
        letter = webhooks_pb2.WebhookDeadLetter.FromString(value)
        endpoint = self._directory.get(letter.endpoint_id)
        if endpoint is None or endpoint.removed:
            log.warning(
                "redelivery of %s: endpoint %s is gone", letter.event_id, letter.endpoint_id
            )
            return
        item = Outgoing.of(
            letter.event_id, letter.event_type, letter.conversation_key, letter.event
        )
        await self._dispatcher.deliver(endpoint, item)
