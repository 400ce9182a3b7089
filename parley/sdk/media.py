"""Client side of MediaService: chunked uploads with progress, downloads by rendition."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc

from parley.gen.parley.v1 import common_pb2, media_pb2, media_pb2_grpc

CHUNK = 256 * 1024
KINDS = {
    "image": common_pb2.MESSAGE_TYPE_IMAGE,
    "file": common_pb2.MESSAGE_TYPE_FILE,
    "audio": common_pb2.MESSAGE_TYPE_AUDIO,
    "video": common_pb2.MESSAGE_TYPE_VIDEO,
}


@dataclass
class Uploaded:
    result: media_pb2.UploadResult
    progress: list[tuple[int, int]] = field(default_factory=list)  # (received, total)

    @property
    def body(self) -> common_pb2.MessageBody:
        return self.result.body

    @property
    def object_id(self) -> str:
        kind = self.body.WhichOneof("content")
        assert kind is not None
        media: common_pb2.MediaRef = getattr(self.body, kind).media
        return media.object_id


async def _chunks(
    kind: str, name: str, data: bytes, declared: int, chunk: int
) -> AsyncIterator[media_pb2.UploadChunk]:
    yield media_pb2.UploadChunk(
        kind=KINDS[kind], file_name=name, declared_size_bytes=declared, data=data[:chunk]
    )
    for start in range(chunk, len(data), chunk):
        yield media_pb2.UploadChunk(data=data[start : start + chunk])


async def upload(
    stub: media_pb2_grpc.MediaServiceStub,
    auth: Any,
    kind: str,
    path: Path | bytes,
    name: str = "",
    *,
    declare: bool = True,
    chunk: int = CHUNK,
    window: int = 1,
) -> Uploaded:
    """Streams a file up; raises the call's AioRpcError when the server rejects it."""
    data = path if isinstance(path, bytes) else await asyncio.to_thread(path.read_bytes)
    name = name or (path.name if isinstance(path, Path) else "blob")
    declared = len(data) if declare else 0
    call = stub.Upload(metadata=auth)
    credits = asyncio.Semaphore(window)

    async def send() -> None:
        # At most `window` chunks are unanswered: a server that rejects a chunk ends the call
        # before more are written, so the reader sees its status rather than a failed write.
        with contextlib.suppress(grpc.aio.AioRpcError, asyncio.InvalidStateError):
            async for message in _chunks(kind, name, data, declared, chunk):
                await credits.acquire()
                if call.done():
                    return
                await call.write(message)
            await call.done_writing()

    sending = asyncio.create_task(send())
    progress: list[tuple[int, int]] = []
    result = None
    try:
        async for answer in call:
            credits.release()
            progress.append((answer.received_bytes, answer.total_bytes))
            if answer.HasField("result"):
                result = answer.result
    finally:
        sending.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sending
    assert result is not None, "the upload ended without a result"
    return Uploaded(result, progress)


async def download(
    stub: media_pb2_grpc.MediaServiceStub,
    auth: Any,
    *,
    message_id: str = "",
    object_id: str = "",
    rendition: int = media_pb2.RENDITION_ORIGINAL,
) -> tuple[bytes, list[tuple[int, int]]]:
    """The bytes of one rendition and the (sent, total) progress of every chunk."""
    request = media_pb2.DownloadRequest(
        message_id=message_id,
        object_id=object_id,
        rendition=rendition,  # type: ignore[arg-type]
    )
    parts: list[bytes] = []
    progress: list[tuple[int, int]] = []
    async for chunk in stub.Download(request, metadata=auth):
        parts.append(chunk.data)
        progress.append((chunk.sent_bytes, chunk.total_bytes))
    return b"".join(parts), progress
