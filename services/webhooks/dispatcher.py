"""POSTs events to webhook endpoints: signed, in order per conversation, retried with backoff,
dead-lettered after the last attempt."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

import aiohttp

from parley.adapters.kafka_records import KafkaRecordWriter
from parley.adapters.wire_webhooks import webhook_body
from parley.config import Settings
from parley.domain.webhooks import (
    ATTEMPT_HEADER,
    EVENT_ID_HEADER,
    EVENT_TYPE_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WebhookEndpoint,
    backoff_s,
    event_type_of,
    lanes_of,
    signature,
)
from parley.gen.parley.v1 import webhooks_pb2
from parley.integration import Delivered
from services.webhooks.endpoints import EndpointDirectory

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One event for one endpoint: the signed body is the same on every attempt."""

    event_id: str
    event_type: str
    conversation_key: str
    event: bytes  # parley.v1.Event
    body: bytes

    @classmethod
    def of(cls, event_id: str, event_type: str, conversation_key: str, event: bytes) -> Outgoing:
        """The item of a live event and of a redelivered dead letter alike."""
        return cls(event_id, event_type, conversation_key, event, webhook_body(event, event_type))


class Dispatcher:
    """`dispatch` is the batch handler of the dispatcher's EventConsumer: it returns once every
    event of the batch was delivered or dead-lettered, and only then is the batch committed
    (at least once). Each (endpoint, conversation) lane is delivered one event at a time, in
    log order; lanes run concurrently, up to `concurrency` POSTs in flight."""

    def __init__(
        self,
        directory: EndpointDirectory,
        writer: KafkaRecordWriter,
        http: aiohttp.ClientSession,
        settings: Settings,
    ) -> None:
        self._directory = directory
        self._writer = writer
        self._http = http
        self._settings = settings
        self._slots = asyncio.Semaphore(settings.webhook_concurrency)
        self._timeout = aiohttp.ClientTimeout(total=settings.webhook_timeout_s)
        self.delivered = 0  # successful POSTs, for the bench and logs

    async def dispatch(self, batch: list[Delivered]) -> None:
        endpoints = self._directory.active()
        if not endpoints:
            return
        typed = [(delivered.event, event_type_of(delivered.event)) for delivered in batch]
        lanes = lanes_of(typed, endpoints)
        if not lanes:
            return
        by_id = {endpoint.endpoint_id: endpoint for endpoint in endpoints}
        items: dict[int, Outgoing] = {}  # one per event, its body built once for every lane
        work = []
        for (endpoint_id, _), indexes in lanes.items():
            for index in indexes:
                if index not in items:
                    (event, event_type), value = typed[index], batch[index].value
                    items[index] = Outgoing.of(
                        event.event_id, event_type, event.conversation_key, value
                    )
            work.append(self._lane(by_id[endpoint_id], [items[index] for index in indexes]))
        await asyncio.gather(*work)

    async def _lane(self, endpoint: WebhookEndpoint, outgoing: Sequence[Outgoing]) -> None:
        for item in outgoing:
            await self.deliver(endpoint, item)

    async def deliver(self, endpoint: WebhookEndpoint, item: Outgoing) -> bool:
        """POSTs until a 2xx answer; after the last attempt writes a dead letter. False when
        the event was dead-lettered or the endpoint removed meanwhile."""
        settings, error = self._settings, ""
        for attempt in range(1, settings.webhook_max_attempts + 1):
            current = self._directory.get(endpoint.endpoint_id)
            if current is None or current.removed:
                return False
            error = await self._post(current, item, attempt)
            if not error:
                self.delivered += 1
                return True
            if attempt < settings.webhook_max_attempts:
                wait = backoff_s(
                    attempt, settings.webhook_backoff_first_s, settings.webhook_backoff_max_s
                )
                log.info(
                    "webhook %s: %s for event %s, attempt %d, next in %.1f s",
                    endpoint.endpoint_id, error, item.event_id, attempt, wait,
                )  # fmt: skip
                await asyncio.sleep(wait)
        await self._dead_letter(endpoint, item, error)
        return False

    async def _post(self, endpoint: WebhookEndpoint, item: Outgoing, attempt: int) -> str:
        """ "" on a 2xx answer, else what went wrong."""
        timestamp_ms = int(time.time() * 1000)
        headers = {
            "Content-Type": "application/json",
            EVENT_ID_HEADER: item.event_id,
            EVENT_TYPE_HEADER: item.event_type,
            TIMESTAMP_HEADER: str(timestamp_ms),
            SIGNATURE_HEADER: signature(endpoint.secret, timestamp_ms, item.body),
            ATTEMPT_HEADER: str(attempt),
        }
        async with self._slots:
            try:
                async with self._http.post(
                    endpoint.url, data=item.body, headers=headers, timeout=self._timeout
                ) as response:
                    if 200 <= response.status < 300:
                        return ""
                    return f"HTTP {response.status}"
            except (aiohttp.ClientError, TimeoutError) as failure:
                return f"{type(failure).__name__}: {failure}"

    async def _dead_letter(self, endpoint: WebhookEndpoint, item: Outgoing, error: str) -> None:
        record = webhooks_pb2.WebhookDeadLetter(
            endpoint_id=endpoint.endpoint_id,
            event_id=item.event_id,
            conversation_key=item.conversation_key,
            event_type=item.event_type,
            event=item.event,
            attempts=self._settings.webhook_max_attempts,
            last_error=error,
            failed_at_ms=int(time.time() * 1000),
        )
        log.warning(
            "webhook %s: event %s dead-lettered after %d attempts (%s)",
            endpoint.endpoint_id, item.event_id, self._settings.webhook_max_attempts, error,
        )  # fmt: skip
        # Until Kafka takes the dead letter the batch is not committed: nothing is lost.
        await self._writer.write(
            self._settings.webhook_topic_dead_letters,
            endpoint.endpoint_id.encode(),
            record.SerializeToString(),
        )
