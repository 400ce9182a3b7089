"""MediaService's own upload rejections, engine-free: an oversized chunk and a malformed upload id
are BAD_PARAMETER, refused before anything is probed, stored or logged."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest

from parley.adapters.media_probe import PillowAvMediaProbe
from parley.adapters.memory import InMemoryBlobStore, InMemoryEventFeed, InMemoryEventLog
from parley.config import Settings
from parley.domain.errors import Reason
from parley.domain.events import MediaUploaded
from parley.domain.limits import MIB
from parley.domain.media_uploads import UPLOAD_CHUNK_MAX_BYTES, upload_id_from
from parley.domain.write_model import WriteModel
from parley.gen.parley.v1 import media_pb2, media_pb2_grpc
from parley.sdk.media import upload
from services.ingress.server import start_server
from services.media.mount import add_media_services
from services.media.scratch import StagingBudget
from services.media.uploads import MediaDeps
from services.writes.app import assemble
from tests.unit.services.ingress_harness import Auth, Harness, reason_code

BAD_PARAMETER = str(int(Reason.BAD_PARAMETER))


@dataclass
class Media:
    harness: Harness
    store: InMemoryBlobStore
    stub: media_pb2_grpc.MediaServiceStub
    auth: Auth

    async def stored_keys(self) -> list[str]:
        return [info.key for info in await self.store.list("")]

    def uploads_logged(self) -> list[MediaUploaded]:
        payloads = [r.event.payload for r in self.harness.records()]
        return [p for p in payloads if isinstance(p, MediaUploaded)]


@contextlib.asynccontextmanager
async def media_server(scratch_dir: Path) -> AsyncIterator[Media]:
    """An ingress with MediaService mounted over the in-memory log and blob store, and alice's
    client of it."""
    settings, log, model = Settings(), InMemoryEventLog(), WriteModel()
    feed = InMemoryEventFeed(log, model)
    await feed.start()
    parts, store = assemble(settings, model, log, feed), InMemoryBlobStore()
    deps = MediaDeps(
        parts.context, store, PillowAvMediaProbe(), str(scratch_dir), StagingBudget(4 * MIB)
    )
    mount = [lambda server: add_media_services(server, deps)]
    running = await start_server(parts.context, parts.authenticator, "127.0.0.1:0", mount)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
        harness = Harness(log, feed, channel, settings)
        yield Media(
            harness, store, media_pb2_grpc.MediaServiceStub(channel), await harness.token("alice")
        )
    await running.stop(0)


@pytest.fixture
async def media(tmp_path: Path) -> AsyncIterator[Media]:
    async with media_server(tmp_path) as started:
        yield started


async def test_upload__a_chunk_over_one_mib_is_bad_parameter(media: Media) -> None:
    # a chunk of exactly the limit is accepted
    fits = await upload(media.stub, media.auth, "file", bytes(UPLOAD_CHUNK_MAX_BYTES), chunk=MIB)
    assert fits.body.file.media.size_bytes == UPLOAD_CHUNK_MAX_BYTES
    accepted_keys = await media.stored_keys()
    # one byte more in the same chunk ends the call, leaving nothing new behind
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await upload(media.stub, media.auth, "file", bytes(MIB + 1), chunk=MIB + 1)
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert reason_code(caught.value) == BAD_PARAMETER
    assert await media.stored_keys() == accepted_keys
    assert len(media.uploads_logged()) == 1


@pytest.mark.parametrize(
    "upload_id",
    ["", "u_", "u_" + "0" * 23, "u_" + "0" * 25, "u_" + "A" * 24, "x_" + "0" * 24,
     "u_" + "0" * 24 + ".json", "../alice/u_" + "0" * 24, "u_" + "0" * 24 + "\n"],
)  # fmt: skip
async def test_complete_upload__a_malformed_upload_id_is_bad_parameter(
    media: Media, upload_id: str
) -> None:
    request = media_pb2.CompleteUploadRequest(upload_id=upload_id)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await media.stub.CompleteUpload(request, metadata=media.auth)
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert reason_code(caught.value) == BAD_PARAMETER


async def test_complete_upload__a_well_formed_unknown_upload_id_is_not_found(media: Media) -> None:
    request = media_pb2.CompleteUploadRequest(upload_id=upload_id_from(bytes(12)))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await media.stub.CompleteUpload(request, metadata=media.auth)
    assert reason_code(caught.value) == str(int(Reason.MEDIA_NOT_FOUND))
