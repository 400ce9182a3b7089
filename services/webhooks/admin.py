"""The webhook RPCs of AdminService: endpoints and dead letters are records on Kafka topics
(the endpoints topic is what the dispatcher follows), so the ingress keeps no webhook state."""

from __future__ import annotations

import asyncio
import secrets
import time
import uuid
from typing import Any

from parley.adapters.kafka_records import KafkaRecordWriter, Record, read_record, read_topic
from parley.adapters.wire_webhooks import EVENT_TYPES, endpoint_from_proto, endpoint_to_proto
from parley.config import Settings
from parley.domain.errors import Reason, Rejected
from parley.domain.webhooks import WebhookEndpoint, check_endpoint
from parley.gen.parley.v1 import webhooks_pb2 as pb
from services.webhooks.topics import ensure_topics


class WebhookAdmin:
    """Mixed into AdminServicer (authorised by the admin secret like every AdminService RPC).
    Reads its settings from the process's environment, as the dispatcher does."""

    _webhook_store: _WebhookTopics | None = None

    def _webhooks(self) -> _WebhookTopics:
        if self._webhook_store is None:
            self._webhook_store = _WebhookTopics(Settings())
        return self._webhook_store

    async def RegisterWebhook(
        self, request: pb.RegisterWebhookRequest, context: Any
    ) -> pb.RegisterWebhookResponse:
        check_endpoint(request.url, request.event_types, EVENT_TYPES)
        endpoint = WebhookEndpoint(
            endpoint_id=f"wh_{uuid.uuid4().hex[:16]}",
            url=request.url,
            event_types=frozenset(request.event_types),
            secret=request.secret or secrets.token_hex(32),
            created_at_ms=int(time.time() * 1000),
        )
        await self._webhooks().put(endpoint)
        return pb.RegisterWebhookResponse(endpoint=endpoint_to_proto(endpoint, with_secret=True))

    async def ListWebhooks(
        self, request: pb.ListWebhooksRequest, context: Any
    ) -> pb.ListWebhooksResponse:
        endpoints = await self._webhooks().endpoints()
        return pb.ListWebhooksResponse(
            endpoints=[endpoint_to_proto(e, with_secret=False) for e in endpoints if not e.removed]
        )

    async def RemoveWebhook(
        self, request: pb.RemoveWebhookRequest, context: Any
    ) -> pb.RemoveWebhookResponse:
        store = self._webhooks()
        found = {e.endpoint_id: e for e in await store.endpoints()}.get(request.endpoint_id)
        if found is None or found.removed:
            raise Rejected(Reason.BAD_PARAMETER, f"no webhook endpoint {request.endpoint_id!r}")
        await store.put(
            WebhookEndpoint(found.endpoint_id, found.url, found.event_types, "", 0, removed=True)
        )
        return pb.RemoveWebhookResponse()

    async def ListWebhookDeadLetters(
        self, request: pb.ListWebhookDeadLettersRequest, context: Any
    ) -> pb.ListWebhookDeadLettersResponse:
        letters = await self._webhooks().dead_letters()
        if request.endpoint_id:
            letters = [letter for letter in letters if letter.endpoint_id == request.endpoint_id]
        return pb.ListWebhookDeadLettersResponse(dead_letters=letters)

    async def RedeliverWebhookDeadLetter(
        self, request: pb.RedeliverWebhookDeadLetterRequest, context: Any
    ) -> pb.RedeliverWebhookDeadLetterResponse:
        await self._webhooks().redeliver(request.dead_letter_id)
        return pb.RedeliverWebhookDeadLetterResponse()


class _WebhookTopics:
    def __init__(self, settings: Settings) -> None:
        self._bootstrap = settings.kafka_bootstrap
        self._settings = settings
        self._writer: KafkaRecordWriter | None = None

    async def _ready(self) -> KafkaRecordWriter:
        if self._writer is None:
            await asyncio.to_thread(ensure_topics, self._settings)
            self._writer = KafkaRecordWriter(self._bootstrap, "parley-webhook-admin")
        return self._writer

    async def _read(self, topic: str) -> list[Record]:
        """Every record of the topic, once the topics exist."""
        await self._ready()
        return await asyncio.to_thread(read_topic, self._bootstrap, topic, "parley-webhook-admin")

    async def put(self, endpoint: WebhookEndpoint) -> None:
        writer = await self._ready()
        value = endpoint_to_proto(endpoint, with_secret=True).SerializeToString()
        topic = self._settings.webhook_topic_endpoints
        await writer.write(topic, endpoint.endpoint_id.encode(), value)

    async def endpoints(self) -> list[WebhookEndpoint]:
        records = await self._read(self._settings.webhook_topic_endpoints)
        latest: dict[bytes, WebhookEndpoint] = {}
        for record in records:
            if record.value:
                latest[record.key] = endpoint_from_proto(
                    pb.WebhookEndpoint.FromString(record.value)
                )
        return list(latest.values())

    async def dead_letters(self) -> list[pb.WebhookDeadLetter]:
        await self._ready()  # once, before the two reads run side by side
        letters, requested = await asyncio.gather(
            self._read(self._settings.webhook_topic_dead_letters),
            self._read(self._settings.webhook_topic_redeliveries),
        )
        asked = {
            pb.WebhookDeadLetter.FromString(r.value).dead_letter_id for r in requested if r.value
        }
        listed = []
        for record in letters:
            letter = pb.WebhookDeadLetter.FromString(record.value or b"")
            letter.dead_letter_id = f"{record.partition}:{record.offset}"
            letter.redelivery_requested = letter.dead_letter_id in asked
            listed.append(letter)
        return listed

    async def redeliver(self, dead_letter_id: str) -> None:
        writer = await self._ready()
        partition, _, offset = dead_letter_id.partition(":")
        if not (partition.isdigit() and offset.isdigit()):
            raise Rejected(Reason.BAD_PARAMETER, "dead letter ids are <partition>:<offset>")
        record = await asyncio.to_thread(
            read_record,
            self._bootstrap,
            self._settings.webhook_topic_dead_letters,
            int(partition),
            int(offset),
        )
        if record is None or not record.value:
            raise Rejected(Reason.BAD_PARAMETER, f"no dead letter {dead_letter_id!r}")
        letter = pb.WebhookDeadLetter.FromString(record.value)
        letter.dead_letter_id = dead_letter_id
        await writer.write(
            self._settings.webhook_topic_redeliveries, record.key, letter.SerializeToString()
        )
