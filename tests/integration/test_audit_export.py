"""`parley audit export` and `verify`: local and MinIO (Object Lock, COMPLIANCE) exports."""

from __future__ import annotations

import asyncio
import io
import json
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from minio.commonconfig import COMPLIANCE
from minio.error import S3Error
from minio.retention import Retention

from parley.adapters.minio_exports import PART_BYTES, MinioExportStore
from tests.integration.audit_harness import noisy_history, produce, run_cli
from tests.integration.projection_harness import (  # noqa: F401 (fixture)
    ProjectionEnv,
    projection_env_fixture,
)
from tests.unit.domain.projection_script import GROUP, PEER_AB

pytestmark = pytest.mark.integration
RETENTION_S = 8


@pytest.fixture
async def bucket(minio_client: Any, unique_name: Callable[[str], str]) -> AsyncIterator[str]:
    """A fresh bucket name; removed once its objects' retention has passed."""
    name = unique_name("audit").replace("_", "-")
    yield name
    if not minio_client.bucket_exists(name):
        return
    deadline = time.monotonic() + RETENTION_S + 60
    while True:
        try:
            for item in minio_client.list_objects(name, recursive=True, include_version=True):
                minio_client.remove_object(name, item.object_name, version_id=item.version_id)
            minio_client.remove_bucket(name)
            return
        except S3Error:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.5)  # the retention has not passed yet


async def test_audit_export__to_a_directory_verifies_and_names_a_changed_record(
    projection_env: ProjectionEnv, tmp_path: Path
) -> None:
    await produce(projection_env, [one.event for one in noisy_history().logged])
    target = tmp_path / "case-1"

    exported = await run_cli(projection_env, "audit", "export", "--conversation", PEER_AB,
                             "--to", str(target))  # fmt: skip

    assert exported.exit_code == 0, exported.output
    manifest = json.loads((target / "manifest.json").read_text())
    assert manifest["events"] == 8 and manifest["conversation"] == PEER_AB
    assert f"head {manifest['head']}" in exported.output
    ok = await run_cli(projection_env, "audit", "verify", str(target), "--head", manifest["head"])
    assert ok.exit_code == 0 and "OK: 8 records" in ok.output
    # change the recalled message's text in the trail: record 1 (bob's m2) is named
    trail = target / "trail.jsonl"
    trail.write_bytes(trail.read_bytes().replace(b'"hi alice"', b'"hi alicE"'))
    failed = await run_cli(projection_env, "audit", "verify", str(target))
    assert failed.exit_code == 1 and "FAILED: record 1 altered" in failed.output
    again = await run_cli(projection_env, "audit", "export", "--conversation", PEER_AB,
                          "--to", str(target))  # fmt: skip
    assert again.exit_code != 0 and "already holds an export" in again.output


async def test_audit_export__to_minio_cannot_be_deleted_or_overwritten_before_its_retention(
    projection_env: ProjectionEnv, minio_client: Any, bucket: str
) -> None:
    # 1. export the group to a new bucket, created with Object Lock
    await produce(projection_env, [one.event for one in noisy_history().logged])
    target = f"s3://{bucket}/cases/17"
    exported = await run_cli(projection_env, "audit", "export", "--conversation", GROUP,
                             "--to", target, "--retain-for", f"{RETENTION_S}s")  # fmt: skip
    assert exported.exit_code == 0, exported.output
    assert "locked (COMPLIANCE)" in exported.output
    head = next(line.split()[1] for line in exported.output.splitlines()
                if line.startswith("head "))  # fmt: skip
    verified = await run_cli(projection_env, "audit", "verify", target, "--head", head)
    assert verified.exit_code == 0 and "retention COMPLIANCE" in verified.output
    # 2. the written versions cannot be deleted, nor their retention shortened
    for key in ("cases/17/trail.jsonl", "cases/17/manifest.json"):
        (version,) = [v for v in minio_client.list_objects(bucket, prefix=key,
                                                           include_version=True)]  # fmt: skip
        with pytest.raises(S3Error):
            minio_client.remove_object(bucket, key, version_id=version.version_id)
        with pytest.raises(S3Error):
            minio_client.set_object_retention(
                bucket, key, Retention(COMPLIANCE, datetime.now(UTC) + timedelta(seconds=1)),
                version_id=version.version_id,
            )  # fmt: skip
    # 3. an overwrite and a delete leave the original: verify still reads and passes it
    forged = b'{"n":0,"prev":"' + b"0" * 64 + b'","forged":true}\n'
    minio_client.put_object(bucket, "cases/17/trail.jsonl", io.BytesIO(forged), len(forged))
    minio_client.remove_object(bucket, "cases/17/manifest.json")  # a delete marker only
    after = await run_cli(projection_env, "audit", "verify", target, "--head", head)
    assert after.exit_code == 0, after.output
    assert "1 later versions and 0 delete markers" in after.output
    assert "0 later versions and 1 delete markers" in after.output
    # 4. the same prefix is never written twice
    again = await run_cli(projection_env, "audit", "export", "--conversation", GROUP,
                          "--to", target)  # fmt: skip
    assert again.exit_code != 0 and "already holds an export" in again.output


async def test_audit_export__refuses_a_bucket_without_object_lock(
    projection_env: ProjectionEnv, minio_client: Any, bucket: str
) -> None:
    minio_client.make_bucket(bucket)

    result = await run_cli(projection_env, "audit", "export", "--conversation", GROUP,
                           "--to", f"s3://{bucket}/x")  # fmt: skip

    assert result.exit_code != 0 and "without Object Lock" in result.output


async def test_audit_export__a_large_trail_streams_in_locked_parts_and_a_failure_leaves_none(
    minio_client: Any, bucket: str
) -> None:
    # 1. more than two parts of bytes written in small lines are stored as one locked object
    store = MinioExportStore(minio_client, bucket)
    store.ensure_bucket()
    until = datetime.now(UTC) + timedelta(seconds=RETENTION_S)
    lines = [b'{"n":%d,"text":"%s"}\n' % (i, b"x" * (i % 300)) for i in range(260_000)]
    assert sum(map(len, lines)) > 2 * PART_BYTES
    with store.locked_writer("big/trail.jsonl", "application/x-ndjson", until) as sink:
        for line in lines:
            sink.write(line)
    stored = store.read_original("big/trail.jsonl")
    assert stored.data == b"".join(lines)
    assert stored.mode == COMPLIANCE and stored.retain_until is not None
    # 2. an export failing after its first part was uploaded leaves no object behind
    broken = store.locked_writer("broken/trail.jsonl", "application/x-ndjson", until)
    with pytest.raises(RuntimeError, match="the log went away"), broken as sink:
        for line in lines:
            sink.write(line)
        raise RuntimeError("the log went away")
    assert not store.exists("broken/trail.jsonl")
