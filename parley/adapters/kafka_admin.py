"""Kafka administration: is a broker there, and topic creation and deletion (start-up, tests)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import TopicAlreadyExistsError

from parley.adapters.kafka_feed import CLIENT_LIMITS


def kafka_available(bootstrap: str, timeout_s: float = 3.0) -> bool:
    """True when a broker at `bootstrap` answers within about `timeout_s`."""
    try:
        admin = KafkaAdminClient(
            bootstrap_servers=bootstrap,
            bootstrap_timeout_ms=int(timeout_s * 1000),
            request_timeout_ms=int(timeout_s * 1000),
        )
    except Exception:
        return False
    admin.close()
    return True


def ensure_topics(bootstrap: str, topics: Mapping[str, int], replication: int = 1) -> list[str]:
    """Creates the missing topics ({name: partitions}); returns the names it created."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, **CLIENT_LIMITS)
    try:
        missing = set(topics) - set(admin.list_topics())
        created = []
        for name in sorted(missing):
            try:
                admin.create_topics([NewTopic(name, topics[name], replication)])
                created.append(name)
            except TopicAlreadyExistsError:
                pass  # created concurrently: fine
        return created
    finally:
        admin.close()


def delete_topics(bootstrap: str, names: Sequence[str]) -> None:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, **CLIENT_LIMITS)
    try:
        existing = set(admin.list_topics())
        if doomed := [name for name in names if name in existing]:
            admin.delete_topics(doomed)
    finally:
        admin.close()
