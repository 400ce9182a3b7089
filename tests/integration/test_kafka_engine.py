"""Real Kafka: idempotent produce and grouped consume keep order; declared topics exist."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from kafka import KafkaConsumer, KafkaProducer
from kafka.admin import KafkaAdminClient, NewTopic

from infra.local import topics

pytestmark = pytest.mark.integration


def test_kafka__idempotent_producer_and_consumer_group_preserve_order(
    kafka_bootstrap: str, unique_name: Callable[[str], str]
) -> None:
    topic, group = unique_name("test.kafka-order"), unique_name("test-group")
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    admin.create_topics([NewTopic(topic, 1, 1)])
    try:
        # Produce 200 records with the delivery guarantees Parley's event log uses.
        producer = KafkaProducer(
            bootstrap_servers=kafka_bootstrap, enable_idempotence=True, acks="all"
        )
        sent = [f"event-{i:03d}".encode() for i in range(200)]
        offsets = [producer.send(topic, key=b"conv-1", value=v).get(timeout=30).offset
                   for v in sent]  # fmt: skip
        producer.close()
        assert offsets == list(range(200))

        # Read them back through a consumer group, waiting on the count, not on time.
        consumer = KafkaConsumer(
            topic,
            bootstrap_servers=kafka_bootstrap,
            group_id=group,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        received: list[tuple[int, bytes]] = []
        deadline = time.monotonic() + 60
        while len(received) < len(sent) and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=1000).values():
                received += [(r.offset, r.value) for r in records]
        consumer.commit()
        consumer.close()
        assert [value for _, value in received] == sent
        assert [offset for offset, _ in received] == list(range(200))
        committed = admin.list_group_offsets(group)[group]
        assert [meta.offset for meta in committed.values()] == [200]
    finally:
        admin.delete_topics([topic])
        admin.close()


def test_topics__declared_topics_exist_as_specified(kafka_bootstrap: str) -> None:
    specs = topics.load_spec()
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    try:
        described = {t["name"]: t for t in admin.describe_topics([s.name for s in specs])}
        for spec in specs:
            assert len(described[spec.name]["partitions"]) == spec.partitions, spec.name
        assert topics.apply(kafka_bootstrap, specs) == []  # already in line: no changes
    finally:
        admin.close()


def test_topics__apply_creates_then_grows_and_realigns(
    kafka_bootstrap: str, unique_name: Callable[[str], str]
) -> None:
    name = unique_name("test.topics-apply")
    config = {"retention.ms": "60000", "cleanup.policy": "delete", "min.insync.replicas": "1"}
    first = topics.TopicSpec(name, 1, 1, config)
    grown = topics.TopicSpec(name, 3, 1, {**config, "retention.ms": "120000"})
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    try:
        assert topics.apply(kafka_bootstrap, [first]) == [f"created topic {name}"]
        assert topics.apply(kafka_bootstrap, [first]) == []
        changes = topics.apply(kafka_bootstrap, [grown])
        assert len(changes) == 2, changes
        (described,) = admin.describe_topics([name])
        assert len(described["partitions"]) == 3
        assert topics.apply(kafka_bootstrap, [grown]) == []
    finally:
        admin.delete_topics([name])
        admin.close()
