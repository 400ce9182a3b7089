"""Applies what the services need to the configured clusters: topics, CQL schema, media bucket."""

from __future__ import annotations

import click

from infra.local import buckets, migrations, topics
from parley.adapters.cassandra import connect_configured
from parley.config import Settings


def topic_specs(settings: Settings) -> list[topics.TopicSpec]:
    """infra/kafka/topics.yaml: every stream's and webhook topic under the name the settings
    give it."""
    streams = {stream.value: name for stream, name in settings.topics().items()}
    return topics.renamed(
        {**streams, **settings.webhook_topics()},
        settings.kafka_replication_factor,
        settings.kafka_min_insync_replicas,
    )


def provision(settings: Settings) -> list[str]:
    """Idempotent; returns what changed. Works on local engines and remote clusters alike."""
    changes = topics.apply(settings.kafka_bootstrap, topic_specs(settings))
    cluster, session = connect_configured(settings, None)
    try:
        applied = migrations.apply(
            session,
            settings.cassandra_keyspace,
            replication_factor=settings.cassandra_replication_factor,
        )
    finally:
        cluster.shutdown()
    changes += [
        f"applied {m.version:04d}_{m.name} to {settings.cassandra_keyspace}" for m in applied
    ]
    from minio import Minio

    client = Minio(
        settings.minio_endpoint,
        access_key=settings.minio_access_key,
        secret_key=settings.minio_secret_key,
        secure=settings.minio_secure,
    )
    changes += [f"created bucket {name}" for name in buckets.apply(client, [settings.minio_bucket])]
    return changes


@click.command("provision")
def provision_command() -> None:
    """Create the topics, apply the CQL schema and create the media bucket on the clusters and
    under the names your PARLEY_* settings give (idempotent; prints what changed)."""
    changes = provision(Settings())
    for change in changes:
        click.echo(change)
    if not changes:
        click.echo("nothing to change: everything is provisioned")
