"""The Faust app of the projectors: the only place that picks concrete adapters for streams/."""

from __future__ import annotations

import tempfile
from pathlib import Path

import faust

from parley.config import Settings

DEFAULT_APP_ID = "parley-projector"


def create_app(settings: Settings, app_id: str = DEFAULT_APP_ID) -> faust.App:
    """A Faust app on `settings.kafka_bootstrap` that declares no topics of its own.

    The broker has auto topic creation off, and Cassandra holds the projection state, so: no
    Faust tables (no changelog topics), no leader topic, no topic declaration, no web server.
    The consumer group is `app_id`; offsets are committed only for events the agent acked.
    """
    datadir = Path(tempfile.gettempdir()) / "parley-faust" / app_id  # unused: no tables
    datadir.mkdir(parents=True, exist_ok=True)
    return faust.App(
        app_id,
        broker=f"kafka://{settings.kafka_bootstrap}",
        topic_allow_declare=False,
        topic_disable_leader=True,
        web_enabled=False,
        datadir=datadir,
        consumer_auto_offset_reset="earliest",
        # A worker that dies (kill -9, lost host) holds its partitions until its session
        # expires: 8 s bounds that outage, heartbeats every 2 s keep a live one in the group.
        broker_session_timeout=8.0,
        broker_heartbeat_interval=2.0,
        broker_rebalance_timeout=20.0,
        broker_commit_every=10_000,
        broker_commit_interval=1.0,
        stream_buffer_maxsize=16_384,
        broker_max_poll_records=10_000,
        producer_acks=-1,
        key_serializer="raw",
        value_serializer="raw",
    )
