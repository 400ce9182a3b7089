"""Real Kafka: idempotent produce and grouped consume keep order; declared topics exist."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from kafka import KafkaConsumer, KafkaProducer
from kafka.admin import KafkaAdminClient, NewTopic

from infra.local import topics
from parley.adapters.kafka import KafkaEventLog
from parley.domain.conversations import ConversationType
from parley.domain.events import Event, MessageSent, TextContent
from parley.domain.log_streams import Stream

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


async def test_event_log__an_event_that_does_not_encode_fails_the_append_with_nothing_produced(
    kafka_bootstrap: str, unique_name: Callable[[str], str]
) -> None:
    topic = unique_name("test.kafka-encode")
    KafkaAdminClient(bootstrap_servers=kafka_bootstrap).create_topics([NewTopic(topic, 1, 1)])
    log = KafkaEventLog(kafka_bootstrap, {stream: topic for stream in Stream})

    def sent(n: int, payload: object = None) -> Event:
        return Event(
            event_id=f"e{n}",
            conversation_key="g:alpha",
            conversation_type=ConversationType.GROUP,
            actor="alice",
            server_time_ms=1_700_000_000_000 + n,
            payload=payload or MessageSent(f"m{n}", TextContent(f"message {n}")),  # type: ignore[arg-type]
        )

    try:
        with pytest.raises(KeyError):  # no wire form for this payload
            await log.append_many([sent(1), sent(2, payload=object()), sent(3)])
        assert len(log._pending) == 0  # nothing left waiting for a report that never comes
        # Nothing of the failed append reached the log: the next record is the first.
        (position,) = await log.append_many([sent(4)])
        assert position.offset == 0
    finally:
        await log.close()
        KafkaAdminClient(bootstrap_servers=kafka_bootstrap).delete_topics([topic])
