"""Declarative Kafka topics: parse infra/kafka/topics.yaml and apply it idempotently."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from infra.local.errors import InfraError
from infra.local.settings import INFRA_DIR

SPEC_FILE = INFRA_DIR / "kafka" / "topics.yaml"
REQUIRED_CONFIG = ("retention.ms", "cleanup.policy", "min.insync.replicas")
_FIELDS = {"name", "partitions", "replication_factor", "config"}


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    replication_factor: int
    config: dict[str, str]  # broker config values, as strings (Kafka's own representation)


def sized(spec: TopicSpec, replication_factor: int, min_insync_replicas: int) -> TopicSpec:
    """`spec` with the replication a cluster's settings give (topics.yaml holds the
    single-node values): every topic a service creates must be sized this way, or a
    replication-factor-1 topic refuses acks=all writes on a cluster with min.insync.replicas 2."""
    return dataclasses.replace(
        spec,
        replication_factor=replication_factor,
        config={**spec.config, "min.insync.replicas": str(min_insync_replicas)},
    )


def renamed(
    names: Mapping[str, str], replication_factor: int, min_insync_replicas: int
) -> list[TopicSpec]:
    """topics.yaml's topics named in `names` (topics.yaml name -> the name to create), each
    sized for the cluster (see `sized`)."""
    by_name = {spec.name: spec for spec in load_spec()}
    return [
        sized(
            dataclasses.replace(by_name[spec], name=name), replication_factor, min_insync_replicas
        )
        for spec, name in names.items()
    ]


class SpecError(ValueError):
    """topics.yaml is malformed; the message names the topic and field."""


def parse_spec(text: str) -> list[TopicSpec]:
    document = yaml.safe_load(text)
    if not isinstance(document, dict) or not isinstance(document.get("topics"), list):
        raise SpecError("topics spec must be a mapping with a 'topics' list")
    specs = [_parse_topic(index, entry) for index, entry in enumerate(document["topics"])]
    names = [spec.name for spec in specs]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise SpecError(f"duplicate topic names: {', '.join(duplicates)}")
    return specs


def _parse_topic(index: int, entry: Any) -> TopicSpec:
    if not isinstance(entry, dict):
        raise SpecError(f"topic #{index} must be a mapping")
    label = f"topic {entry.get('name', f'#{index}')!s}"
    if missing := _FIELDS - entry.keys():
        raise SpecError(f"{label}: missing {', '.join(sorted(missing))}")
    if unknown := entry.keys() - _FIELDS:
        raise SpecError(f"{label}: unknown fields {', '.join(sorted(unknown))}")
    name, partitions, replicas = entry["name"], entry["partitions"], entry["replication_factor"]
    if not isinstance(name, str) or not name:
        raise SpecError(f"{label}: name must be a non-empty string")
    for field, value in (("partitions", partitions), ("replication_factor", replicas)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise SpecError(f"{label}: {field} must be a positive integer, got {value!r}")
    config = entry["config"]
    if not isinstance(config, dict):
        raise SpecError(f"{label}: config must be a mapping")
    if missing := set(REQUIRED_CONFIG) - config.keys():
        raise SpecError(f"{label}: config is missing {', '.join(sorted(missing))}")
    return TopicSpec(name, partitions, replicas, {str(k): str(v) for k, v in config.items()})


def load_spec(path: Path = SPEC_FILE) -> list[TopicSpec]:
    try:
        return parse_spec(path.read_text())
    except SpecError as error:
        raise InfraError(f"{path}: {error}", "correct the topic spec") from error


def config_drift(spec: TopicSpec, actual: dict[str, str]) -> dict[str, str]:
    """The keys whose actual value differs from the spec, mapped to the wanted value."""
    return {key: value for key, value in spec.config.items() if actual.get(key) != value}


def apply(bootstrap: str, specs: list[TopicSpec]) -> list[str]:
    """Create missing topics, add partitions and fix configs; returns what changed."""
    from kafka.admin import KafkaAdminClient, NewTopic

    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="parley-infra")
    changes: list[str] = []
    try:
        existing = set(admin.list_topics())
        missing = [spec for spec in specs if spec.name not in existing]
        if missing:
            admin.create_topics(
                [
                    NewTopic(s.name, s.partitions, s.replication_factor, topic_configs=s.config)
                    for s in missing
                ]
            )
            changes += [f"created topic {spec.name}" for spec in missing]
        for spec in specs:
            if spec.name in existing:
                changes += _reconcile(admin, spec)
    finally:
        admin.close()
    return changes


def _reconcile(admin: Any, spec: TopicSpec) -> list[str]:
    from kafka.admin import ConfigResource, ConfigResourceType, NewPartitions

    changes: list[str] = []
    (description,) = admin.describe_topics([spec.name])
    partitions = len(description["partitions"])
    replicas = len(description["partitions"][0]["replica_nodes"])
    if replicas != spec.replication_factor:
        raise InfraError(
            f"topic {spec.name} has replication factor {replicas}, the spec says "
            f"{spec.replication_factor}",
            "reassign its partitions by hand, or delete the topic and rerun `make infra-up`",
        )
    if partitions > spec.partitions:
        raise InfraError(
            f"topic {spec.name} has {partitions} partitions, the spec says {spec.partitions}",
            "Kafka cannot remove partitions: raise the spec's count, or delete the topic "
            "(losing its data) and rerun `make infra-up`",
        )
    if partitions < spec.partitions:
        admin.create_partitions({spec.name: NewPartitions(spec.partitions)})
        changes.append(f"topic {spec.name}: partitions {partitions} -> {spec.partitions}")
    resource = ConfigResource(ConfigResourceType.TOPIC, spec.name, dict.fromkeys(spec.config))
    result = admin.describe_configs([resource], config_filter="all")
    entries = result["topic"][spec.name]
    actual = {key: str(entry["value"]) for key, entry in entries.items()}
    drift = config_drift(spec, actual)
    if drift:
        admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, spec.name, drift)])
        changes.append(f"topic {spec.name}: config {drift}")
    return changes
