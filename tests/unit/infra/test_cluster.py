"""The local cluster's engine configuration (issue 17): replicated, quorum-safe, beside the
single-node stack's ports."""

from __future__ import annotations

from infra.local import cluster
from infra.local.engine import Engine
from infra.local.settings import Settings, load_versions


def _nodes() -> list[Engine]:
    return cluster.engines(cluster.cluster_settings(Settings.from_env()), load_versions())


def test_cluster__brokers_form_one_quorum_with_replication_3_and_min_isr_2() -> None:
    brokers = [e for e in _nodes() if isinstance(e, cluster.KafkaNode)]
    settings = [b.broker_settings() for b in brokers]
    assert [s["node.id"] for s in settings] == ["1", "2", "3"]
    assert len({s["controller.quorum.voters"] for s in settings}) == 1
    for s in settings:
        assert s["default.replication.factor"] == s["offsets.topic.replication.factor"] == "3"
        assert s["min.insync.replicas"] == s["transaction.state.log.min.isr"] == "2"
        assert s["unclean.leader.election.enable"] == "false"
        assert ":9092" not in s["listeners"] and ":9093" not in s["listeners"]


def test_cluster__cassandra_nodes_use_own_addresses_tokens_and_ports() -> None:
    nodes = [e for e in _nodes() if isinstance(e, cluster.CassandraNode)]
    texts = [n.render_yaml() for n in nodes]
    for index, text in enumerate(texts, start=1):
        assert f"listen_address: 127.0.0.{index}" in text
        assert f"rpc_address: 127.0.0.{index}" in text
        assert "native_transport_port: 19042" in text and "storage_port: 17000" in text
        assert 'seeds: "127.0.0.1:17000"' in text
        assert f"initial_token: {cluster.CASSANDRA_TOKENS[index]}" in text
    assert len(set(texts)) == 3


def test_cluster__services_settings_point_at_the_cluster_only() -> None:
    env = cluster.parley_environment()
    assert env["PARLEY_KAFKA_BOOTSTRAP"] == "127.0.0.1:19092,127.0.0.1:19093,127.0.0.1:19094"
    assert env["PARLEY_CASSANDRA_HOSTS"] == "127.0.0.1,127.0.0.2,127.0.0.3"
    assert env["PARLEY_CASSANDRA_CONSISTENCY"] == "LOCAL_QUORUM"
    assert env["PARLEY_MINIO_ENDPOINT"] == "127.0.0.1:19000"
