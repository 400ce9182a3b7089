"""Real MinIO: a multi-megabyte object survives a put/get round trip byte for byte."""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from typing import Any

import pytest

from infra.local import buckets

pytestmark = pytest.mark.integration


def test_minio__put_and_get_a_large_object(
    minio_client: Any, unique_name: Callable[[str], str]
) -> None:
    bucket = unique_name("test-blobs").replace("_", "-")
    payload = os.urandom(7 * 1024 * 1024 + 13)  # > 5 MiB: the SDK switches to multipart
    minio_client.make_bucket(bucket)
    try:
        minio_client.put_object(
            bucket, "media/clip.bin", io.BytesIO(payload), len(payload),
            part_size=5 * 1024 * 1024, content_type="application/octet-stream",
        )  # fmt: skip
        response = minio_client.get_object(bucket, "media/clip.bin")
        try:
            assert response.read() == payload
        finally:
            response.close()
            response.release_conn()
        assert minio_client.stat_object(bucket, "media/clip.bin").size == len(payload)
    finally:
        for item in minio_client.list_objects(bucket, recursive=True):
            minio_client.remove_object(bucket, item.object_name)
        minio_client.remove_bucket(bucket)


def test_buckets__declared_buckets_exist(minio_client: Any) -> None:
    names = buckets.load_spec()
    assert all(minio_client.bucket_exists(name) for name in names)
    assert buckets.apply(minio_client, names) == []  # idempotent: nothing left to create
