"""Audit exports: one conversation's trail as a hash-chained JSONL file plus a manifest, written
to a directory or to an Object Lock bucket (s3://BUCKET/PREFIX), and verified from either."""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

from parley.adapters.kafka_audit import KafkaConversationLog
from parley.adapters.minio_exports import MinioExportStore
from parley.adapters.wire_audit import record_json
from parley.config import Settings
from parley.domain.audit_bounds import Bound, describe
from parley.domain.audit_chain import ChainWriter, Manifest, Verdict, verify

MANIFEST = "manifest.json"
TRAIL = "trail.jsonl"


class Sink(Protocol):
    def write(self, data: bytes, /) -> int: ...


class ExportExists(Exception):
    """The target already holds an export: exports are written once."""


@dataclass(frozen=True)
class Target:
    """A directory, or a bucket and key prefix (s3://BUCKET/PREFIX)."""

    path: str = ""
    bucket: str = ""
    prefix: str = ""

    @staticmethod
    def parse(text: str) -> Target:
        if text.startswith("s3://"):
            bucket, _, prefix = text[len("s3://") :].partition("/")
            return Target(bucket=bucket, prefix=prefix.strip("/"))
        return Target(path=text)

    @property
    def is_s3(self) -> bool:
        return bool(self.bucket)

    def key(self, name: str) -> str:
        return f"{self.prefix}/{name}" if self.prefix else name

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}" if self.is_s3 else self.path


@dataclass(frozen=True)
class Checked:
    verdict: Verdict
    manifest: Manifest
    notes: list[str] = field(default_factory=list)  # where it was read from, its locks


def store_for(settings: Settings, bucket: str) -> MinioExportStore:
    return MinioExportStore.connect(
        settings.minio_endpoint, settings.minio_access_key, settings.minio_secret_key, bucket,
        secure=settings.minio_secure,
    )  # fmt: skip


def write_trail(
    log: KafkaConversationLog,
    key: str,
    start: Bound | None,
    end: Bound | None,
    sink: Sink,
    partition: int | None = None,
) -> Manifest:
    """Writes the chained records of `key`'s events to `sink`; the manifest describing them."""
    span = log.span(key, start, end, partition)
    chain = ChainWriter()
    write = sink.write
    line = chain.line_of
    for record in log.records(key, span):
        write(line(record_json(record)))
    return Manifest(
        conversation=key, topic=span.topic, partition=span.partition, from_offset=span.start,
        to_offset=span.end - 1, events=chain.count, head=chain.head,
        requested_from=describe(start), requested_to=describe(end),
        exported_at_ms=int(time.time() * 1000),
    )  # fmt: skip


def export(
    settings: Settings,
    log: KafkaConversationLog,
    key: str,
    start: Bound | None,
    end: Bound | None,
    target: Target,
    retention: timedelta,
    partition: int | None = None,
) -> Manifest:
    if not target.is_s3:
        return _export_to_directory(log, key, start, end, Path(target.path), partition)
    store = store_for(settings, target.bucket)
    store.ensure_bucket()
    trail_key, manifest_key = target.key(TRAIL), target.key(MANIFEST)
    if store.exists(trail_key) or store.exists(manifest_key):
        raise ExportExists(f"{target} already holds an export")
    until = datetime.now(UTC) + retention
    # The trail is uploaded while it is written; the manifest, once the trail is stored.
    with store.locked_writer(trail_key, "application/x-ndjson", until) as sink:
        manifest = write_trail(log, key, start, end, sink, partition)
    manifest = replace(manifest, retain_until=until.isoformat(timespec="seconds"))
    with tempfile.TemporaryDirectory(prefix="parley-export-") as scratch:
        manifest_path = Path(scratch, MANIFEST)
        manifest_path.write_text(manifest.to_json())
        store.put_locked(manifest_key, str(manifest_path), "application/json", until)
    return manifest


def _export_to_directory(
    log: KafkaConversationLog,
    key: str,
    start: Bound | None,
    end: Bound | None,
    directory: Path,
    partition: int | None,
) -> Manifest:
    directory.mkdir(parents=True, exist_ok=True)
    trail_path, manifest_path = directory / TRAIL, directory / MANIFEST
    if trail_path.exists() or manifest_path.exists():
        raise ExportExists(f"{directory} already holds an export")
    with trail_path.open("xb", buffering=1 << 20) as sink:
        manifest = write_trail(log, key, start, end, sink, partition)
    manifest_path.write_text(manifest.to_json())
    return manifest


def check(settings: Settings, target: Target) -> Checked:
    """Reads an export (the versions it wrote, for s3) and verifies its chain."""
    if not target.is_s3:
        directory = Path(target.path)
        if directory.is_file():  # the manifest named directly
            directory = directory.parent
        manifest = Manifest.from_json((directory / MANIFEST).read_bytes())
        data = (directory / manifest.trail).read_bytes()
        return Checked(verify(manifest, data), manifest, [f"read {directory}"])
    store = store_for(settings, target.bucket)
    stored_manifest = store.read_original(target.key(MANIFEST))
    manifest = Manifest.from_json(stored_manifest.data)
    stored_trail = store.read_original(target.key(os.path.basename(manifest.trail)))
    notes = []
    for stored in (stored_trail, stored_manifest):
        until = stored.retain_until.isoformat() if stored.retain_until else "-"
        notes.append(
            f"s3://{target.bucket}/{stored.key}: version {stored.version_id} read, "
            f"retention {stored.mode or 'none'} until {until}"
        )
        if stored.later_versions or stored.delete_markers:
            notes.append(
                f"  {stored.later_versions} later versions and {stored.delete_markers} delete "
                "markers on this key (attempts to overwrite or delete it; the version read is "
                "the one the export wrote)"
            )
    return Checked(verify(manifest, stored_trail.data), manifest, notes)
