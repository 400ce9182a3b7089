"""Composition of the media services: MinIO and the Pillow/PyAV probe from settings."""

from __future__ import annotations

from parley.adapters.media_probe import PillowAvMediaProbe
from parley.adapters.minio import MinioBlobStore
from parley.config import Settings
from services.ingress.context import IngressContext
from services.media.uploads import MediaDeps


def blob_store_of(settings: Settings, prefix: str = "") -> MinioBlobStore:
    store = MinioBlobStore.connect(
        settings.minio_endpoint, settings.minio_access_key, settings.minio_secret_key,
        settings.minio_bucket, secure=settings.minio_secure,
    )  # fmt: skip
    return MinioBlobStore(store.client, settings.minio_bucket, prefix) if prefix else store


def media_deps(ingress: IngressContext, settings: Settings, prefix: str = "") -> MediaDeps:
    """MediaService's dependencies over the ingress's write model and writer; `prefix` puts
    every key under a namespace of the bucket (tests and benchmarks use a fresh one)."""
    return MediaDeps(ingress, blob_store_of(settings, prefix), PillowAvMediaProbe())
