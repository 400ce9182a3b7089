"""NoticeSink on Kafka: per-user notices to `parley.user-updates` on librdkafka (confluent-kafka),
acks from all ISRs."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Producer

from parley.adapters.wire_rows import encode_notice
from parley.domain.read_models import Notice

log = logging.getLogger(__name__)

FLUSH_TIMEOUT_S = 30.0  # a batch whose notices are not all acknowledged by then fails


class KafkaNoticeSink:
    """Publishes a batch of notices keyed by user id and returns once Kafka acknowledged all.

    librdkafka rather than the Faust app's aiokafka producer: per notice, `produce` is a C call
    where aiokafka ran a Python batch builder and a debug log record, which cost as much as the
    projection of the event. murmur2 is the Java clients' partitioner, so a user's notices land
    on the partition any other Kafka client would pick for the same key. At-least-once: a batch
    that fails is retried whole by the projector, and delivery drops duplicates by offset.
    """

    def __init__(self, bootstrap: str, topic: str) -> None:
        self._topic = topic
        self._producer = Producer(
            {
                "bootstrap.servers": bootstrap,
                "client.id": "parley-projector-notices",
                "enable.idempotence": True,
                "acks": "all",
                "linger.ms": 5,
                "partitioner": "murmur2_random",
                "logger": logging.getLogger("librdkafka.notices"),
            }
        )

    async def publish(self, notices: Sequence[Notice]) -> None:
        failures: list[KafkaError] = []

        def report(error: KafkaError | None, _: Any) -> None:
            if error is not None:
                failures.append(error)

        produce, topic = self._producer.produce, self._topic
        for notice in notices:
            self._produce(produce, topic, notice, report)
        left = await asyncio.to_thread(self._producer.flush, FLUSH_TIMEOUT_S)
        if failures or left:
            raise KafkaException(failures[0] if failures else f"{left} notices unacknowledged")

    def _produce(self, produce: Any, topic: str, notice: Notice, report: Any) -> None:
        key, value = notice.user_id.encode(), encode_notice(notice)
        try:
            produce(topic, value, key, on_delivery=report)
        except BufferError:  # the local queue is full: let it drain, then go on
            self._producer.poll(1.0)
            produce(topic, value, key, on_delivery=report)

    def close(self) -> None:
        self._producer.flush(FLUSH_TIMEOUT_S)
