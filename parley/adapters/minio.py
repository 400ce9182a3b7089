"""MinioBlobStore: the BlobStore port over MinIO (or any S3 API) with the `minio` SDK."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, Self, TypeVar
from urllib.parse import quote

import urllib3
from minio import Minio
from minio.deleteobjects import DeleteObject
from minio.error import S3Error

from parley.ports import BlobInfo, BlobStoreUnavailable

_T = TypeVar("_T")

MISSING_CODES = frozenset({"NoSuchKey", "NoSuchObject", "NoSuchUpload"})
# Parts of 16 MiB: a 100 MB video goes up in 7 parts, and a put of a small file is one request.
PART_SIZE = 16 * 1024 * 1024


def _ms(moment: datetime | None) -> int:
    return 0 if moment is None else int(moment.timestamp() * 1000)


def http_pool(timeout_s: float = 10.0, retries: int = 2) -> urllib3.PoolManager:
    """Bounded timeouts and few retries, so an outage fails a call in seconds, not minutes."""
    return urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=timeout_s, read=timeout_s * 3),
        retries=urllib3.Retry(total=retries, backoff_factor=0.2, status_forcelist=(502, 503, 504)),
        maxsize=32,
    )


def minio_client(endpoint: str, access_key: str, secret_key: str, *, secure: bool = False) -> Minio:
    """A MinIO client over the bounded pool: every MinIO adapter connects through this."""
    return Minio(
        endpoint, access_key=access_key, secret_key=secret_key, secure=secure,
        http_client=http_pool(),
    )  # fmt: skip


class MinioBucket:
    """One bucket and the client that reaches it: what every MinIO adapter stands on."""

    def __init__(self, client: Minio, bucket: str) -> None:
        self._client = client
        self.bucket = bucket

    @classmethod
    def connect(
        cls, endpoint: str, access_key: str, secret_key: str, bucket: str, *, secure: bool = False
    ) -> Self:
        return cls(minio_client(endpoint, access_key, secret_key, secure=secure), bucket)

    @property
    def client(self) -> Minio:
        return self._client


class MinioBlobStore(MinioBucket):
    """Keys live under `prefix` in `bucket` (tests use a unique prefix; production none).

    The SDK is blocking, so every call runs in a worker thread; streams read chunk by chunk.
    """

    def __init__(self, client: Minio, bucket: str, prefix: str = "") -> None:
        super().__init__(client, bucket)
        self._prefix = prefix

    def _full(self, key: str) -> str:
        return self._prefix + key

    async def _call(self, fn: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
        try:
            return await asyncio.to_thread(fn, *args, **kwargs)
        except S3Error:
            raise
        except (urllib3.exceptions.HTTPError, OSError) as error:
            raise BlobStoreUnavailable(f"minio: {type(error).__name__}: {error}") from error

    async def put_file(self, key: str, path: str, content_type: str) -> BlobInfo:
        await self._call(
            self._client.fput_object, self.bucket, self._full(key), path,
            content_type=content_type, part_size=PART_SIZE,
        )  # fmt: skip
        return await self._require(key)

    async def put_bytes(self, key: str, data: bytes, content_type: str) -> BlobInfo:
        await self._call(
            self._client.put_object, self.bucket, self._full(key), io.BytesIO(data), len(data),
            content_type=content_type,
        )  # fmt: skip
        return await self._require(key)

    async def _require(self, key: str) -> BlobInfo:
        info = await self.stat(key)
        if info is None:
            raise BlobStoreUnavailable(f"minio lost {key!r} right after writing it")
        return info

    async def stat(self, key: str) -> BlobInfo | None:
        try:
            found = await self._call(self._client.stat_object, self.bucket, self._full(key))
        except S3Error as error:
            if error.code in MISSING_CODES:
                return None
            raise BlobStoreUnavailable(f"minio: {error.code}: {error.message}") from error
        return BlobInfo(
            key, int(found.size or 0), found.content_type or "", _ms(found.last_modified)
        )

    async def get(
        self, key: str, offset: int = 0, chunk_size: int = 256 * 1024
    ) -> AsyncIterator[bytes]:
        try:
            response = await self._call(
                self._client.get_object, self.bucket, self._full(key), offset=offset
            )
        except S3Error as error:
            if error.code in MISSING_CODES:
                raise KeyError(key) from error
            if error.code == "InvalidRange":  # offset at (or past) the end of the object
                return
            raise BlobStoreUnavailable(f"minio: {error.code}: {error.message}") from error
        try:
            while chunk := await self._call(response.read, chunk_size):
                yield chunk
        finally:
            response.close()
            response.release_conn()

    async def download_to(self, key: str, path: str) -> BlobInfo:
        try:
            await self._call(self._client.fget_object, self.bucket, self._full(key), path)
        except S3Error as error:
            if error.code in MISSING_CODES:
                raise KeyError(key) from error
            raise BlobStoreUnavailable(f"minio: {error.code}: {error.message}") from error
        return await self._require(key)

    async def delete(self, keys: Sequence[str]) -> None:
        if not keys:
            return
        targets = [DeleteObject(self._full(key)) for key in keys]

        def remove() -> list[str]:
            failures = self._client.remove_objects(self.bucket, targets)
            return [f"{f.name}: {f.code}" for f in failures if f.code not in MISSING_CODES]

        failed = await self._call(remove)
        if failed:
            raise BlobStoreUnavailable(f"minio could not delete {failed}")

    async def list(self, prefix: str) -> list[BlobInfo]:
        def listing() -> list[BlobInfo]:
            found = self._client.list_objects(
                self.bucket, prefix=self._full(prefix), recursive=True
            )
            return [
                BlobInfo(
                    item.object_name[len(self._prefix) :],
                    int(item.size or 0),
                    item.content_type or "",
                    _ms(item.last_modified),
                )
                for item in found
            ]

        return sorted(await self._call(listing), key=lambda info: info.key)

    async def presign_put(self, key: str, expires_s: int) -> str:
        return await self._call(
            self._client.presigned_put_object, self.bucket, self._full(key),
            expires=timedelta(seconds=expires_s),
        )  # fmt: skip

    async def presign_get(self, key: str, expires_s: int, download_name: str = "") -> str:
        headers = (
            {"response-content-disposition": f"attachment; filename*=UTF-8''{quote(download_name)}"}
            if download_name
            else None
        )
        return await self._call(
            self._client.presigned_get_object, self.bucket, self._full(key),
            expires=timedelta(seconds=expires_s), response_headers=headers,
        )  # fmt: skip

    async def abort_incomplete_uploads(self, prefix: str, older_than_ms: int) -> int:
        # The SDK keeps multipart listing private; S3's ListMultipartUploads is stable, though.
        # MinIO lists uploads by exact key or bucket-wide only, so the prefix is applied here.
        wanted = self._full(prefix)

        def sweep() -> int:
            aborted, marker = 0, None
            while True:
                page = self._client._list_multipart_uploads(
                    self.bucket, key_marker=marker, max_uploads=1000
                )
                for upload in page.uploads:
                    if upload.object_name.startswith(wanted) and (
                        _ms(upload.initiated_time) < older_than_ms
                    ):
                        aborted += self._abort(upload.object_name, str(upload.upload_id))
                if not page.is_truncated or not page.next_key_marker:
                    return aborted
                marker = page.next_key_marker

        return await self._call(sweep)

    def _abort(self, name: str, upload_id: str) -> int:
        """1, or 0 when S3 says another cleanup aborted it first (NoSuchUpload; MinIO just
        answers success): concurrent sweeps of several media servers must not fail."""
        try:
            self._client._abort_multipart_upload(self.bucket, name, upload_id)
        except S3Error as error:
            if error.code not in MISSING_CODES:
                raise
            return 0
        return 1
