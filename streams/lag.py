"""Projection lag per partition: end offset of the topic minus the applied position."""

from __future__ import annotations

from dataclasses import dataclass

from kafka import KafkaConsumer, TopicPartition

from parley.adapters.cassandra import connect_configured
from parley.adapters.cassandra_queries import applied_offsets
from parley.adapters.kafka_feed import CLIENT_LIMITS
from parley.config import Settings
from parley.domain.read_models import PROJECTOR_NAME


@dataclass(frozen=True)
class PartitionLag:
    partition: int
    end_offset: int  # the next offset Kafka will give (log end)
    applied_offset: int  # the last offset applied; -1 for none

    @property
    def lag(self) -> int:
        """Events in the log not yet applied."""
        return max(0, self.end_offset - 1 - self.applied_offset)


def end_offsets(bootstrap: str, topic: str) -> dict[int, int]:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, **CLIENT_LIMITS)
    try:
        parts = [
            TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        return {tp.partition: offset for tp, offset in consumer.end_offsets(parts).items()}
    finally:
        consumer.close()


def projection_lag(settings: Settings, projector: str = PROJECTOR_NAME) -> list[PartitionLag]:
    """Lag of every partition of the conversation topic (for `parley status` and health)."""
    topic = settings.topic_conversation_events
    cluster, session = connect_configured(settings)
    try:
        applied = applied_offsets(session, topic, projector)
    finally:
        cluster.shutdown()
    ends = end_offsets(settings.kafka_bootstrap, topic)
    return [PartitionLag(p, end, applied.get(p, -1)) for p, end in sorted(ends.items())]
