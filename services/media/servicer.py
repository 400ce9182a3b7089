"""MediaService: streamed and presigned uploads, downloads by rendition, presigned downloads."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import IO, Any

from parley.adapters import wire
from parley.domain.errors import Reason, Rejected
from parley.domain.events import MediaContent, MessageType, type_of
from parley.domain.media_access import Rendition, check_download, object_key
from parley.domain.media_content import check_size, media_max_bytes
from parley.domain.media_objects import StoredMedia
from parley.domain.media_uploads import check_media_type, check_upload_chunk
from parley.gen.parley.v1 import media_pb2 as pb
from parley.gen.parley.v1 import media_pb2_grpc
from parley.ports import BlobStoreUnavailable
from services.media.scratch import Claim, no_room_is_busy
from services.media.staging import complete_upload, create_upload_url
from services.media.uploads import MediaDeps, accept_upload, unavailable
from services.shell.auth import current_caller

DOWNLOAD_CHUNK_BYTES = 256 * 1024
_RENDITIONS = {
    pb.RENDITION_ORIGINAL: Rendition.ORIGINAL,
    pb.RENDITION_LARGE: Rendition.LARGE,
    pb.RENDITION_THUMBNAIL: Rendition.THUMBNAIL,
    pb.RENDITION_FIRST_FRAME: Rendition.FIRST_FRAME,
}


def media_type_from_proto(number: int) -> MessageType:
    try:
        return check_media_type(MessageType(number))
    except ValueError:
        raise Rejected(Reason.BAD_PARAMETER, f"kind: unknown message type {number}") from None


def result_of(content: MediaContent) -> pb.UploadResult:
    message_type: Any = int(type_of(content))
    return pb.UploadResult(body=wire.content_to_proto(content), type=message_type)


class MediaServicer(media_pb2_grpc.MediaServiceServicer):
    def __init__(self, deps: MediaDeps) -> None:
        self._deps = deps

    async def Upload(
        self, request_iterator: AsyncIterator[pb.UploadChunk], context: Any
    ) -> AsyncIterator[pb.UploadProgress]:
        owner = current_caller().user_id
        with (
            self._deps.staging.claim() as claim,
            no_room_is_busy(),  # staging, writing and rendering alike
            tempfile.TemporaryDirectory(dir=self._deps.scratch_dir) as directory,
        ):
            path = Path(directory) / "upload"
            sink = await asyncio.to_thread(path.open, "wb")
            try:
                received = _Received(self._deps, claim)
                async for chunk in request_iterator:
                    yield await received.add(chunk, sink)
            finally:
                await asyncio.to_thread(sink.close)
            if received.kind is None:
                raise Rejected(Reason.BAD_PARAMETER, "the upload stream had no chunk")
            content = await accept_upload(
                self._deps, owner, received.kind, received.file_name, str(path),
                self._deps.ingress.stamp(context),
            )  # fmt: skip
        yield pb.UploadProgress(
            received_bytes=received.bytes, total_bytes=received.bytes,
            result=result_of(content),
        )  # fmt: skip

    async def CreateUploadUrl(
        self, request: pb.CreateUploadUrlRequest, context: Any
    ) -> pb.CreateUploadUrlResponse:
        upload_id, url, expires_at_ms = await create_upload_url(
            self._deps, current_caller().user_id, media_type_from_proto(request.kind),
            request.file_name, request.size_bytes, self._deps.ingress.clock_ms(),
        )  # fmt: skip
        return pb.CreateUploadUrlResponse(upload_id=upload_id, url=url, expires_at_ms=expires_at_ms)

    async def CompleteUpload(
        self, request: pb.CompleteUploadRequest, context: Any
    ) -> pb.UploadResult:
        with (
            no_room_is_busy(),
            tempfile.TemporaryDirectory(dir=self._deps.scratch_dir) as directory,
        ):
            content = await complete_upload(
                self._deps, current_caller().user_id, request.upload_id, directory,
                self._deps.ingress.stamp(context),
            )  # fmt: skip
        return result_of(content)

    async def Download(
        self, request: pb.DownloadRequest, context: Any
    ) -> AsyncIterator[pb.DownloadChunk]:
        try:
            stored, rendition = await self._check(request)
            key = object_key(stored.object_id, rendition)
            info = await self._deps.store.stat(key)
            if info is None:
                raise Rejected(Reason.MEDIA_NOT_FOUND, "the media was removed")
            sent = 0
            async for data in self._deps.store.get(key, 0, DOWNLOAD_CHUNK_BYTES):
                sent += len(data)
                yield pb.DownloadChunk(
                    data=data, sent_bytes=sent, total_bytes=info.size,
                    content_type=info.content_type if sent == len(data) else "",
                )  # fmt: skip
        except KeyError:
            raise Rejected(Reason.MEDIA_NOT_FOUND, "the media was removed") from None
        except BlobStoreUnavailable as error:
            raise unavailable(error) from error

    async def CreateDownloadUrl(
        self, request: pb.DownloadRequest, context: Any
    ) -> pb.CreateDownloadUrlResponse:
        ttl_s = self._deps.download_url_ttl_s
        try:
            stored, rendition = await self._check(request)
            download_name = stored.content.media.file_name
            key = object_key(stored.object_id, rendition)
            url = await self._deps.store.presign_get(key, ttl_s, download_name)
        except BlobStoreUnavailable as error:
            raise unavailable(error) from error
        expires_at_ms = self._deps.ingress.clock_ms() + ttl_s * 1000
        return pb.CreateDownloadUrlResponse(url=url, expires_at_ms=expires_at_ms)

    async def _check(self, request: pb.DownloadRequest) -> tuple[StoredMedia, Rendition]:
        rendition = _RENDITIONS.get(request.rendition)
        if rendition is None:
            raise Rejected(Reason.BAD_PARAMETER, f"rendition: unknown value {request.rendition}")
        user, ingress = current_caller().user_id, self._deps.ingress
        stored = await ingress.media_lookup.unless_unseen(
            ingress.writer.catch_up,
            lambda archived: check_download(
                user, request.object_id, request.message_id, rendition, ingress.model, archived
            ),
            [request.object_id],
            [request.message_id],
        )
        return stored, rendition


class _Received:
    """The running state of one streamed upload: kind and name from the first chunk, bytes."""

    def __init__(self, deps: MediaDeps, claim: Claim) -> None:
        self._limits = deps.ingress.limits
        self._claim = claim
        self.kind: MessageType | None = None
        self.file_name = ""
        self.declared = 0
        self.bytes = 0

    async def add(self, chunk: pb.UploadChunk, sink: IO[bytes]) -> pb.UploadProgress:
        if self.kind is None:
            self.kind = media_type_from_proto(chunk.kind)
            self.file_name = chunk.file_name
            self.declared = max(0, chunk.declared_size_bytes)
            check_size(self.kind, self.declared, self._limits)  # refused before any data
        check_upload_chunk(len(chunk.data))
        self.bytes += len(chunk.data)
        if self.bytes > media_max_bytes(self.kind, self._limits):
            check_size(self.kind, self.bytes, self._limits)  # stops reading the stream now
        # What the client declared is held from its first chunk: a full server says so early.
        self._claim.grow_to(max(self.declared, self.bytes))
        await asyncio.to_thread(sink.write, chunk.data)
        return pb.UploadProgress(received_bytes=self.bytes, total_bytes=self.declared)
