"""Composition of the media services: MinIO and the Pillow/PyAV probe from settings."""

from __future__ import annotations

import logging

from parley.adapters.media_probe import PillowAvMediaProbe
from parley.adapters.minio import MinioBlobStore
from parley.config import Settings
from services.media.scratch import StagingBudget, scratch_dir_of
from services.media.uploads import MediaDeps
from services.writes.context import IngressContext

log = logging.getLogger(__name__)


def blob_store_of(settings: Settings, prefix: str = "") -> MinioBlobStore:
    store = MinioBlobStore.connect(
        settings.minio_endpoint, settings.minio_access_key, settings.minio_secret_key,
        settings.minio_bucket, secure=settings.minio_secure,
    )  # fmt: skip
    return MinioBlobStore(store.client, settings.minio_bucket, prefix) if prefix else store


def media_deps(ingress: IngressContext, settings: Settings, prefix: str = "") -> MediaDeps:
    """MediaService's dependencies over the ingress's write model and writer; `prefix` puts
    every key under a namespace of the bucket (tests and benchmarks use a fresh one)."""
    scratch_dir = scratch_dir_of(settings.media_scratch_dir)
    budget = settings.media_staging_max_bytes
    log.info("uploads are staged in %s, at most %d bytes at once", scratch_dir, budget)
    return MediaDeps(
        ingress, blob_store_of(settings, prefix), PillowAvMediaProbe(), scratch_dir,
        StagingBudget(budget),
    )  # fmt: skip
