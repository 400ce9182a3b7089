"""Settings of the webhook dispatcher and its admin API (`PARLEY_WEBHOOK_*`)."""

from __future__ import annotations

import dataclasses

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from infra.local import topics
from parley.config import Settings


class WebhookSettings(BaseSettings):
    """Beside parley.config.Settings (Kafka bootstrap, event topics), which they extend."""

    model_config = SettingsConfigDict(env_prefix="PARLEY_WEBHOOK_", frozen=True)

    topic_endpoints: str = Field(
        default="parley.webhook-endpoints", description="Registered endpoints (compacted)."
    )
    topic_dead_letters: str = Field(
        default="parley.webhook-dead-letters",
        description="Events not delivered within max_attempts.",
    )
    topic_redeliveries: str = Field(
        default="parley.webhook-redeliveries", description="Dead letters an admin sent again."
    )
    group: str = Field(default="parley-webhooks", description="The dispatcher's consumer group.")
    max_attempts: int = Field(default=10, ge=1, description="POSTs of one event to one endpoint.")
    backoff_first_s: float = Field(default=0.5, gt=0, description="Wait after the first failure.")
    backoff_max_s: float = Field(default=30.0, gt=0, description="Longest wait between attempts.")
    timeout_s: float = Field(default=5.0, gt=0, description="Timeout of one POST.")
    concurrency: int = Field(
        default=64, ge=1, description="POSTs in flight (different conversations or endpoints)."
    )

    def topic_specs(self) -> list[topics.TopicSpec]:
        """infra/kafka/topics.yaml's webhook topics under the names these settings give."""
        by_name = {spec.name: spec for spec in topics.load_spec()}
        names = {
            "parley.webhook-endpoints": self.topic_endpoints,
            "parley.webhook-dead-letters": self.topic_dead_letters,
            "parley.webhook-redeliveries": self.topic_redeliveries,
        }
        return [dataclasses.replace(by_name[spec], name=name) for spec, name in names.items()]


def ensure_topics(settings: Settings, webhooks: WebhookSettings) -> None:
    """Creates the webhook topics that are missing, replicated as the settings say for every
    topic (idempotent; blocking)."""
    specs = [
        topics.sized(spec, settings.kafka_replication_factor, settings.kafka_min_insync_replicas)
        for spec in webhooks.topic_specs()
    ]
    topics.apply(settings.kafka_bootstrap, specs)
