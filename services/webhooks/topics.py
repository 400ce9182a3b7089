"""The webhook topics (endpoints, dead letters, redeliveries): created by their first user, and
by `parley provision` with the others."""

from __future__ import annotations

from infra.local.topics import apply, renamed
from parley.config import Settings


def ensure_topics(settings: Settings) -> None:
    """Creates the webhook topics that are missing, under the names and with the replication
    the settings give (idempotent; blocking)."""
    specs = renamed(
        settings.webhook_topics(),
        settings.kafka_replication_factor,
        settings.kafka_min_insync_replicas,
    )
    apply(settings.kafka_bootstrap, specs)
