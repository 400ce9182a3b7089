"""The registered endpoints, folded from the compacted endpoints topic and followed live."""

from __future__ import annotations

import asyncio
import logging
import threading

from confluent_kafka import Consumer, TopicPartition

from parley.adapters.kafka_feed import next_batch, open_consumer, watermarks
from parley.adapters.wire_webhooks import endpoint_from_proto
from parley.domain.webhooks import WebhookEndpoint
from parley.gen.parley.v1 import webhooks_pb2

log = logging.getLogger(__name__)


class EndpointDirectory:
    """Endpoint id -> endpoint, as of the last record of each id. `start` returns once every
    registration present at start is folded; later ones apply within a poll (~100 ms)."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self._bootstrap = bootstrap
        self._topic = topic
        self._endpoints: dict[str, WebhookEndpoint] = {}
        self._stopping = threading.Event()
        self._caught_up = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def active(self) -> list[WebhookEndpoint]:
        with self._lock:
            return [e for e in self._endpoints.values() if not e.removed]

    def get(self, endpoint_id: str) -> WebhookEndpoint | None:
        with self._lock:
            return self._endpoints.get(endpoint_id)

    async def start(self, timeout_s: float = 30.0) -> None:
        consumer = await asyncio.to_thread(self._connect)
        self._thread = threading.Thread(
            target=self._run, args=(consumer,), name="webhook-endpoints", daemon=True
        )
        self._thread.start()
        if not await asyncio.to_thread(self._caught_up.wait, timeout_s):
            raise TimeoutError(f"could not read {self._topic} within {timeout_s} s")

    async def close(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join, 5)

    def _connect(self) -> tuple[Consumer, dict[int, int]]:
        consumer = open_consumer(self._bootstrap, "parley-webhook-endpoints")
        marks = watermarks(consumer, [self._topic])
        consumer.assign([TopicPartition(self._topic, p, low) for (_, p), (low, _) in marks.items()])
        ends = {p: high for (_, p), (low, high) in marks.items() if high > low}
        return consumer, ends

    def _run(self, connected: tuple[Consumer, dict[int, int]]) -> None:
        consumer, ends = connected
        try:
            while not self._stopping.is_set():
                if not ends:
                    self._caught_up.set()
                for message in next_batch(consumer):
                    if message.error() is not None:
                        continue
                    self._fold(message.value())
                    partition, offset = message.partition() or 0, message.offset() or 0
                    if offset + 1 >= ends.get(partition, 0):
                        ends.pop(partition, None)
        except Exception:
            log.exception("following the webhook endpoints stopped")
        finally:
            consumer.close()

    def _fold(self, value: bytes | None) -> None:
        if not value:
            return
        endpoint = endpoint_from_proto(webhooks_pb2.WebhookEndpoint.FromString(value))
        with self._lock:
            self._endpoints[endpoint.endpoint_id] = endpoint
