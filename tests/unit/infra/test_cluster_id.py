"""Kafka cluster ids must be 22-char URL-safe base64 of 16 bytes, never starting with '-'."""

from __future__ import annotations

import base64

from infra.local.kafka import new_cluster_id


def test_new_cluster_id__is_base64url_of_16_bytes() -> None:
    for _ in range(200):
        cluster_id = new_cluster_id()
        assert len(cluster_id) == 22
        assert not cluster_id.startswith("-")
        assert len(base64.urlsafe_b64decode(cluster_id + "==")) == 16
