"""The webhook topics (endpoints, dead letters, redeliveries): created by their first user."""

from __future__ import annotations

import dataclasses

from infra.local.topics import TopicSpec, apply, load_spec, sized
from parley.config import Settings


def topic_specs(settings: Settings) -> list[TopicSpec]:
    """infra/kafka/topics.yaml's webhook topics under the names the settings give, replicated as
    the settings say for every topic."""
    by_name = {spec.name: spec for spec in load_spec()}
    return [
        sized(
            dataclasses.replace(by_name[spec], name=name),
            settings.kafka_replication_factor,
            settings.kafka_min_insync_replicas,
        )
        for spec, name in settings.webhook_topics().items()
    ]


def ensure_topics(settings: Settings) -> None:
    """Creates the webhook topics that are missing (idempotent; blocking)."""
    apply(settings.kafka_bootstrap, topic_specs(settings))
