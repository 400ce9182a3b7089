"""`parley provision` provisions what the settings name, where they point: an operator's own
topic names, keyspace and bucket on the configured clusters (not the local defaults)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest
from kafka.admin import KafkaAdminClient

from parley.adapters.kafka_admin import delete_topics

pytestmark = pytest.mark.integration


def test_provision__creates_the_configured_topics_keyspace_and_bucket(
    kafka_bootstrap: str,
    cassandra_session: Any,
    minio_client: Any,
    unique_name: Callable[[str], str],
) -> None:
    run = unique_name("prov")
    topics = {
        "conversation_events": f"{run}-events",
        "signals": f"{run}-signals",
        "user_updates": f"{run}-updates",
        "broadcasts": f"{run}-broadcasts",
        "webhook_topic_endpoints": f"{run}-hook-endpoints",
        "webhook_topic_dead_letters": f"{run}-hook-dead",
        "webhook_topic_redeliveries": f"{run}-hook-again",
    }
    keyspace, bucket = f"{run}_ks", f"{run}-media".replace("_", "-")
    env = {
        **os.environ,
        "PARLEY_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "PARLEY_CASSANDRA_KEYSPACE": keyspace,
        "PARLEY_MINIO_BUCKET": bucket,
        **{
            f"PARLEY_{'' if name.startswith('webhook') else 'TOPIC_'}{name.upper()}": topic
            for name, topic in topics.items()
        },
    }
    command = [sys.executable, "-m", "parley.cli", "provision"]
    try:
        first = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
        admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
        try:
            assert set(topics.values()) <= set(admin.list_topics())
        finally:
            admin.close()
        tables = cassandra_session.execute(
            "SELECT table_name FROM system_schema.tables WHERE keyspace_name = %s", (keyspace,)
        )
        assert {"messages_by_conversation", "messages_by_id"} <= {r.table_name for r in tables}
        assert minio_client.bucket_exists(bucket)
        assert f"created bucket {bucket}" in first.stdout
        again = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
        assert "nothing to change" in again.stdout  # idempotent
    finally:
        delete_topics(kafka_bootstrap, list(topics.values()))
        cassandra_session.execute(f"DROP KEYSPACE IF EXISTS {keyspace}")
        if minio_client.bucket_exists(bucket):
            minio_client.remove_bucket(bucket)
