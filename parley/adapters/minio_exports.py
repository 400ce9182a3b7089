"""Audit exports in MinIO (or any S3 API with Object Lock): objects written once in COMPLIANCE
mode with a retention date, so nobody, the root user included, can delete or overwrite the
version written before that date. A versioned bucket still accepts a newer version or a delete
marker on the same key: readers therefore read the oldest version, the one the export wrote, and
say how many others exist."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from minio.commonconfig import COMPLIANCE
from minio.error import S3Error
from minio.retention import Retention

from parley.adapters.minio import MinioBucket

# Parts of a streamed upload: several are uploaded while the next is written (minio's pool).
PART_BYTES = 16 * 1024 * 1024


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


class MinioExportStore(MinioBucket):
    """The locked exports of one bucket."""

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

    @contextmanager
    def locked_writer(self, key: str, content_type: str, until: datetime) -> Iterator[Pipe]:
        """A sink whose bytes are uploaded as `key` while they are written (multipart, in
        PART_BYTES parts), locked in COMPLIANCE mode until `until`. The object exists once the
        block ends without error; an error inside it aborts the upload (nothing is left)."""
        pipe = Pipe(capacity=4 * PART_BYTES)
        failure: list[BaseException] = []

        def upload() -> None:
            try:
                self._client.put_object(  # the pipe is no BinaryIO, but read() is all it uses
                    self.bucket, key, pipe, -1,  # type: ignore[arg-type]
                    content_type=content_type, part_size=PART_BYTES,
                    retention=Retention(COMPLIANCE, until),
                )  # fmt: skip
            except BaseException as error:  # reported to the writer below
                failure.append(error)
                pipe.stop()

        uploader = threading.Thread(target=upload, name=f"upload {key}", daemon=True)
        uploader.start()
        try:
            yield pipe
            pipe.close()
        except BaseException:
            pipe.stop()  # read() raises: minio aborts the multipart upload
            uploader.join()
            if failure and not isinstance(failure[0], PipeStopped):
                raise ExportStoreError(f"s3://{self.bucket}/{key}: {failure[0]}") from None
            raise
        uploader.join()
        if failure:
            raise ExportStoreError(f"s3://{self.bucket}/{key}: {failure[0]}") from failure[0]

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


class PipeStopped(Exception):
    """The other side of a pipe gave up."""


class Pipe:
    """Bytes written by one thread and read by another (an uploader), at most `capacity` of
    them held: writes are gathered and handed over in blocks, so each small write costs an
    append only."""

    def __init__(self, capacity: int, block: int = 4 * 1024 * 1024) -> None:
        self._capacity, self._block = capacity, block
        self._pending = bytearray()  # the writer's, not yet handed over
        self._blocks: deque[bytes] = deque()
        self._held = 0
        self._closed = self._stopped = False
        self._changed = threading.Condition()

    def write(self, data: bytes) -> int:
        self._pending += data
        if len(self._pending) >= self._block:
            self._hand_over()
        return len(data)

    def close(self) -> None:
        """No more writes: the reader gets what is left, then end of file."""
        self._hand_over()
        with self._changed:
            self._closed = True
            self._changed.notify_all()

    def stop(self) -> None:
        """Either side gives up: the other's next read or write raises PipeStopped."""
        with self._changed:
            self._stopped = True
            self._changed.notify_all()

    def read(self, size: int = -1) -> bytes:
        """Up to `size` bytes (-1: up to the capacity); fewer only at the end or when more
        than the capacity is asked for; b"" once closed and read."""
        with self._changed:
            wanted = self._capacity if size < 0 else size
            enough = min(wanted, self._capacity)
            self._changed.wait_for(lambda: self._stopped or self._closed or self._held >= enough)
            if self._stopped:
                raise PipeStopped("the writer stopped")
            taken, count = [], 0
            while self._blocks and count < wanted:
                block = self._blocks.popleft()
                if count + len(block) > wanted:
                    cut = wanted - count
                    self._blocks.appendleft(block[cut:])
                    block = block[:cut]
                taken.append(block)
                count += len(block)
            self._held -= count
            self._changed.notify_all()
        return b"".join(taken)

    def _hand_over(self) -> None:
        if not self._pending:
            return
        block, self._pending = bytes(self._pending), bytearray()
        with self._changed:
            self._changed.wait_for(lambda: self._stopped or self._held < self._capacity)
            if self._stopped:
                raise PipeStopped("the upload stopped")
            self._blocks.append(block)
            self._held += len(block)
            self._changed.notify_all()
