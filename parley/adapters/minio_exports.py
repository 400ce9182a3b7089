"""Audit exports in MinIO (or any S3 API with Object Lock): objects written once in COMPLIANCE
mode with a retention date, so nobody, the root user included, can delete or overwrite the
version written before that date. A versioned bucket still accepts a newer version or a delete
marker on the same key: readers therefore read the oldest version, the one the export wrote, and
say how many others exist."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from minio import Minio
from minio.commonconfig import COMPLIANCE
from minio.error import S3Error
from minio.retention import Retention

from parley.adapters.minio import minio_client


class ExportStoreError(Exception):
    """The bucket cannot hold locked exports, or an object is missing or already there."""


@dataclass(frozen=True)
class LockedObject:
    """The version an export wrote (the oldest) and what else the key holds."""

    key: str
    data: bytes
    version_id: str
    later_versions: int  # versions written after it (an attempted overwrite)
    delete_markers: int  # delete markers on the key (an attempted delete)
    mode: str  # the version's retention mode, "" if none
    retain_until: datetime | None


class MinioExportStore:
    def __init__(self, client: Minio, bucket: str) -> None:
        self._client = client
        self.bucket = bucket

    @classmethod
    def connect(
        cls, endpoint: str, access_key: str, secret_key: str, bucket: str, *, secure: bool = False
    ) -> MinioExportStore:
        return cls(minio_client(endpoint, access_key, secret_key, secure=secure), bucket)

    @property
    def client(self) -> Minio:
        return self._client

    def ensure_bucket(self) -> bool:
        """Creates the bucket with Object Lock; an existing bucket must have it. True when the
        bucket was created."""
        if not self._client.bucket_exists(self.bucket):
            self._client.make_bucket(self.bucket, object_lock=True)
            return True
        try:
            self._client.get_object_lock_config(self.bucket)
        except S3Error as error:
            raise ExportStoreError(
                f"bucket {self.bucket} was created without Object Lock ({error.code}); "
                "exports need a bucket created with it: name a new bucket"
            ) from None
        return False

    def exists(self, key: str) -> bool:
        return any(v.object_name == key for v in self._versions(key))

    def put_locked(self, key: str, path: str, content_type: str, until: datetime) -> str:
        """Writes `path` as `key`, locked in COMPLIANCE mode until `until`; its version id."""
        written = self._client.fput_object(
            self.bucket, key, path, content_type=content_type,
            retention=Retention(COMPLIANCE, until),
        )  # fmt: skip
        return str(written.version_id)

    def read_original(self, key: str) -> LockedObject:
        """The oldest version of `key`, with its retention, and a count of later changes."""
        versions = [v for v in self._versions(key) if v.object_name == key]
        markers = [v for v in versions if v.is_delete_marker]
        kept = sorted(
            (v for v in versions if not v.is_delete_marker),
            key=lambda v: (v.last_modified is None, v.last_modified),
        )
        if not kept:
            raise ExportStoreError(f"s3://{self.bucket}/{key} does not exist")
        original = kept[0]
        response = self._client.get_object(self.bucket, key, version_id=original.version_id)
        try:
            data = response.read()
        finally:
            response.close()
            response.release_conn()
        try:
            retention = self._client.get_object_retention(
                self.bucket, key, version_id=original.version_id
            )
        except S3Error:  # a version written without retention
            retention = None
        return LockedObject(
            key, data, str(original.version_id), len(kept) - 1, len(markers),
            str(retention.mode or "") if retention else "",
            retention.retain_until_date if retention else None,
        )  # fmt: skip

    def _versions(self, key: str) -> list[Any]:
        return list(self._client.list_objects(self.bucket, prefix=key, include_version=True))
