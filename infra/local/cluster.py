"""A local cluster beside the single-node stack: 3 Kafka brokers in one KRaft quorum, 3 Cassandra
nodes on 127.0.0.1-3 and MinIO, on ports of their own (the single-node stack keeps 9092, 9042,
9000), with data under var/cluster and the same install caches."""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from infra.local import buckets, migrations, topics
from infra.local.cassandra import Cassandra, render_yaml
from infra.local.engine import Engine
from infra.local.kafka import BROKER_SETTINGS, Kafka, new_cluster_id
from infra.local.minio import MinIO
from infra.local.settings import HOST, Settings

NODES = (1, 2, 3)
KAFKA_PORTS = {node: 19091 + node for node in NODES}  # 19092-19094
KAFKA_CONTROLLER_PORTS = {node: 19094 + node for node in NODES}  # 19095-19097
CASSANDRA_HOSTS = {node: f"127.0.0.{node}" for node in NODES}
CASSANDRA_CQL_PORT = 19042
CASSANDRA_STORAGE_PORT = 17000
# Evenly spaced Murmur3 tokens, one per node: each node owns a third before replication.
CASSANDRA_TOKENS = {1: -9223372036854775808, 2: -3074457345618258603, 3: 3074457345618258602}
SEED = f"{CASSANDRA_HOSTS[1]}:{CASSANDRA_STORAGE_PORT}"
MINIO_PORT = 19000
MINIO_CONSOLE_PORT = 19001
REPLICATION_FACTOR = 3
MIN_INSYNC_REPLICAS = 2
BOOTSTRAP = ",".join(f"{HOST}:{port}" for port in KAFKA_PORTS.values())


def cluster_settings(base: Settings | None = None) -> Settings:
    """The single-node stack's settings with data, logs and pids under var/cluster."""
    base = base or Settings.from_env()
    return dataclasses.replace(base, var_root=base.var_root / "cluster")


def parley_environment() -> dict[str, str]:
    """The PARLEY_* settings that point the services at this cluster (and nothing else)."""
    return {
        "PARLEY_KAFKA_BOOTSTRAP": BOOTSTRAP,
        "PARLEY_CASSANDRA_HOSTS": ",".join(CASSANDRA_HOSTS.values()),
        "PARLEY_CASSANDRA_PORT": str(CASSANDRA_CQL_PORT),
        "PARLEY_CASSANDRA_CONSISTENCY": "LOCAL_QUORUM",
        "PARLEY_CASSANDRA_REPLICATION_FACTOR": str(REPLICATION_FACTOR),
        "PARLEY_KAFKA_REPLICATION_FACTOR": str(REPLICATION_FACTOR),
        "PARLEY_KAFKA_MIN_INSYNC_REPLICAS": str(MIN_INSYNC_REPLICAS),
        "PARLEY_MINIO_ENDPOINT": f"{HOST}:{MINIO_PORT}",
    }


def env_file(settings: Settings) -> Path:
    """`cluster-up` writes the environment above here: `set -a; . var/cluster/parley.env`."""
    return settings.var_root / "parley.env"


class KafkaNode(Kafka):
    """One broker+controller of the 3-voter quorum. Replicated internal topics, unclean leader
    election off, min.insync.replicas 2: an append acknowledged with acks=all survives the
    loss of any one broker."""

    ready_timeout_s = 150.0

    def __init__(self, node: int, settings: Settings, versions: dict[str, Any]) -> None:
        super().__init__(settings, versions)
        self.node = node
        self.name = f"kafka-{node}"
        self.ports = (KAFKA_PORTS[node], KAFKA_CONTROLLER_PORTS[node])

    def broker_settings(self) -> dict[str, str]:
        voters = ",".join(f"{n}@{HOST}:{KAFKA_CONTROLLER_PORTS[n]}" for n in NODES)
        port, controller = KAFKA_PORTS[self.node], KAFKA_CONTROLLER_PORTS[self.node]
        return {
            **BROKER_SETTINGS,
            "node.id": str(self.node),
            "controller.quorum.voters": voters,
            "listeners": f"PLAINTEXT://{HOST}:{port},CONTROLLER://{HOST}:{controller}",
            "advertised.listeners": f"PLAINTEXT://{HOST}:{port}",
            "default.replication.factor": str(REPLICATION_FACTOR),
            "min.insync.replicas": str(MIN_INSYNC_REPLICAS),
            "unclean.leader.election.enable": "false",
            "offsets.topic.replication.factor": str(REPLICATION_FACTOR),
            "transaction.state.log.replication.factor": str(REPLICATION_FACTOR),
            "transaction.state.log.min.isr": str(MIN_INSYNC_REPLICAS),
            # A killed broker's partitions move within seconds, not the default 9 s + 18 s.
            "broker.session.timeout.ms": "4000",
            "broker.heartbeat.interval.ms": "1000",
            "replica.lag.time.max.ms": "10000",
        }

    def cluster_id(self) -> str:
        """Every node formats with the one cluster id the first node drew."""
        shared = self.settings.var_root / "kafka.cluster.id"
        if not shared.exists():
            shared.write_text(new_cluster_id() + "\n")
        return shared.read_text().strip()

    @property
    def bootstrap(self) -> str:
        return f"{HOST}:{KAFKA_PORTS[self.node]}"

    def provision(self) -> None:
        """Topics go on once the whole quorum serves (see `provision_cluster`)."""


class CassandraNode(Cassandra):
    """One of three nodes on its own loopback address; seeds: node 1."""

    ready_timeout_s = 240.0

    def __init__(self, node: int, settings: Settings, versions: dict[str, Any]) -> None:
        super().__init__(settings, versions)
        self.node = node
        self.name = f"cassandra-{node}"
        self.host = CASSANDRA_HOSTS[node]
        self.ports = (CASSANDRA_CQL_PORT, CASSANDRA_STORAGE_PORT)
        self.heap = os.environ.get("PARLEY_CLUSTER_CASSANDRA_HEAP", "768m")

    def render_yaml(self) -> str:
        """The single node's cassandra.yaml with this node's address, token, ports and seed."""
        yaml = render_yaml(self.settings.data_dir(self.name))
        replaced = {
            "cluster_name: parley-local": "cluster_name: parley-cluster",
            "initial_token: 0": f"initial_token: {CASSANDRA_TOKENS[self.node]}",
            "listen_address: 127.0.0.1": f"listen_address: {self.host}",
            "rpc_address: 127.0.0.1": f"rpc_address: {self.host}",
            "storage_port: 7000": f"storage_port: {CASSANDRA_STORAGE_PORT}",
            "native_transport_port: 9042": f"native_transport_port: {CASSANDRA_CQL_PORT}",
            '- seeds: "127.0.0.1:7000"': f'- seeds: "{SEED}"',
            # A killed node's missed writes are replayed to it when it is back.
            "hinted_handoff_enabled: false": "hinted_handoff_enabled: true",
        }
        for old, new in replaced.items():
            if old not in yaml:
                raise RuntimeError(f"cassandra.yaml template changed: {old!r} not found")
            yaml = yaml.replace(old, new)
        # Empty nodes of a new cluster: nothing to stream, join at once.
        return yaml + "auto_bootstrap: false\n"

    def prepare(self) -> list[str]:
        command = super().prepare()
        (self.settings.conf_dir(self.name) / "cassandra.yaml").write_text(self.render_yaml())
        return command

    def probe(self) -> None:
        from cassandra.cluster import Cluster
        from cassandra.policies import WhiteListRoundRobinPolicy

        cluster = Cluster(
            [self.host],
            port=CASSANDRA_CQL_PORT,
            load_balancing_policy=WhiteListRoundRobinPolicy([self.host]),
            connect_timeout=5.0,
            protocol_version=5,
        )
        try:
            session = cluster.connect()
            if session.execute("SELECT release_version FROM system.local").one() is None:
                raise RuntimeError("system.local returned no row")
        finally:
            cluster.shutdown()

    def provision(self) -> None:
        """The schema goes on once every node serves (see `provision_cluster`)."""


class MinIONode(MinIO):
    name = "minio"
    ports = (MINIO_PORT, MINIO_CONSOLE_PORT)

    def prepare(self) -> list[str]:
        data = self.settings.data_dir(self.name)
        data.mkdir(parents=True, exist_ok=True)
        return [str(self.binary), "server", str(data), "--address", f"{HOST}:{MINIO_PORT}",
                "--console-address", f"{HOST}:{MINIO_CONSOLE_PORT}"]  # fmt: skip

    def client(self) -> Any:
        from minio import Minio

        return Minio(
            f"{HOST}:{MINIO_PORT}",
            access_key=self.settings.minio_root_user,
            secret_key=self.settings.minio_root_password,
            secure=False,
        )

    def provision(self) -> None:
        buckets.apply(self.client(), buckets.load_spec())


def engines(settings: Settings, versions: dict[str, Any]) -> list[Engine]:
    return [
        *(KafkaNode(node, settings, versions) for node in NODES),
        *(CassandraNode(node, settings, versions) for node in NODES),
        MinIONode(settings, versions),
    ]


def provision_cluster(keyspace: str) -> list[str]:
    """Topics at replication factor 3 and min.insync.replicas 2, the schema in a keyspace of
    replication factor 3, the buckets: the provisioning code of the services, cluster values."""
    from parley.adapters.cassandra import connect

    specs = [
        dataclasses.replace(
            spec,
            replication_factor=REPLICATION_FACTOR,
            config={**spec.config, "min.insync.replicas": str(MIN_INSYNC_REPLICAS)},
        )
        for spec in topics.load_spec()
    ]
    changes = topics.apply(BOOTSTRAP, specs)
    cluster, session = connect(
        list(CASSANDRA_HOSTS.values()), CASSANDRA_CQL_PORT, consistency="LOCAL_QUORUM"
    )
    try:
        applied = _with_schema_retries(
            lambda: migrations.apply(session, keyspace, replication_factor=REPLICATION_FACTOR)
        )
    finally:
        cluster.shutdown()
    return changes + [f"applied {m.version:04d}_{m.name} to {keyspace}" for m in applied]


def _with_schema_retries(
    apply: Callable[[], list[migrations.Migration]],
) -> list[migrations.Migration]:
    """Three nodes take a moment to agree on new tables (INCOMPATIBLE_SCHEMA meanwhile), past
    the driver's own wait on a loaded machine: try again; the migrations are idempotent."""
    for attempt in range(10):
        try:
            return apply()
        except Exception:
            if attempt == 9:
                raise
            time.sleep(3.0)
    return []
