"""Parsing infra/kafka/topics.yaml and deciding which configs drift; no broker involved."""

from __future__ import annotations

import pytest

from infra.local import topics

VALID = """
topics:
  - name: parley.example
    partitions: 3
    replication_factor: 1
    config: {retention.ms: -1, cleanup.policy: delete, min.insync.replicas: 1}
"""


def test_parse_spec__reads_fields_and_stringifies_config() -> None:
    (spec,) = topics.parse_spec(VALID)
    assert spec == topics.TopicSpec(
        "parley.example",
        3,
        1,
        {"retention.ms": "-1", "cleanup.policy": "delete", "min.insync.replicas": "1"},
    )


def test_parse_spec__the_repository_spec_declares_parleys_topics() -> None:
    specs = {spec.name: spec for spec in topics.load_spec()}
    assert set(specs) == {
        "parley.conversation-events",
        "parley.signals",
        "parley.user-updates",
        "parley.broadcasts",
        "parley.webhook-endpoints",
        "parley.webhook-dead-letters",
        "parley.webhook-redeliveries",
    }
    assert specs["parley.webhook-endpoints"].config["cleanup.policy"] == "compact"
    assert specs["parley.conversation-events"].config["retention.ms"] == "-1"
    assert specs["parley.signals"].config["retention.ms"] == "3600000"
    assert specs["parley.broadcasts"].partitions == 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("topics: {}", "'topics' list"),
        (VALID.replace("    partitions: 3\n", ""), "missing partitions"),
        (VALID.replace("partitions: 3", "partitions: 0"), "positive integer"),
        (VALID.replace("partitions: 3", "partitions: true"), "positive integer"),
        (VALID.replace("cleanup.policy: delete, ", ""), "config is missing cleanup.policy"),
        (VALID + "    colour: blue\n", "unknown fields colour"),
        (VALID + VALID.split("topics:\n")[1], "duplicate topic names: parley.example"),
    ],
)
def test_parse_spec__rejects_malformed_specs(text: str, message: str) -> None:
    with pytest.raises(topics.SpecError, match=message):
        topics.parse_spec(text)


def test_config_drift__lists_only_differing_keys() -> None:
    (spec,) = topics.parse_spec(VALID)
    actual = {"retention.ms": "604800000", "cleanup.policy": "delete", "min.insync.replicas": "1"}
    assert topics.config_drift(spec, actual) == {"retention.ms": "-1"}
    assert topics.config_drift(spec, {**actual, "retention.ms": "-1"}) == {}
