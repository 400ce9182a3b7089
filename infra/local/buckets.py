"""Declarative MinIO buckets: parse infra/minio/buckets.yaml and create the missing ones."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from infra.local.errors import InfraError
from infra.local.settings import INFRA_DIR

SPEC_FILE = INFRA_DIR / "minio" / "buckets.yaml"
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")  # S3 bucket naming rules


def parse_spec(text: str) -> list[str]:
    document = yaml.safe_load(text)
    entries = document.get("buckets") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise ValueError("bucket spec must be a mapping with a 'buckets' list")
    names = []
    for entry in entries:
        name = entry.get("name") if isinstance(entry, dict) else None
        if not isinstance(name, str) or not _BUCKET.fullmatch(name):
            raise ValueError(f"invalid bucket entry {entry!r}: need name: <s3 bucket name>")
        names.append(name)
    return names


def load_spec(path: Path = SPEC_FILE) -> list[str]:
    try:
        return parse_spec(path.read_text())
    except ValueError as error:
        raise InfraError(f"{path}: {error}", "correct the bucket spec") from error


def apply(client: Any, names: list[str]) -> list[str]:
    """Create each missing bucket; returns the names created."""
    created = []
    for name in names:
        if not client.bucket_exists(name):
            client.make_bucket(name)
            created.append(name)
    return created
