"""MediaService uploads on real MinIO and Kafka: validation by content, renditions, progress,
and rejections that leave no object behind."""

from __future__ import annotations

import asyncio
import io
import urllib.request
from pathlib import Path

import grpc
import pytest
from PIL import Image

from parley.domain.errors import Reason
from parley.domain.events import MediaUploaded
from parley.gen.parley.v1 import common_pb2, media_pb2
from parley.sdk.media import KINDS, Uploaded, download, upload
from tests import media_samples
from tests.integration.ingress_harness import Client, Ingress
from tests.integration.test_ingress_rejections import reason_of

pytestmark = pytest.mark.integration
MIB = 1024 * 1024


def assert_progress_ends_at(uploaded: Uploaded, total: int) -> None:
    received = [r for r, _ in uploaded.progress]
    assert received == sorted(received) and received[0] > 0
    assert received[-1] == total and uploaded.progress[-1] == (total, total)


async def http_put(url: str, data: bytes) -> int:
    def put() -> int:
        request = urllib.request.Request(url, data=data, method="PUT")
        with urllib.request.urlopen(request, timeout=10) as response:
            status: int = response.status
            return status

    return await asyncio.to_thread(put)


async def stored_keys(ingress: Ingress) -> list[str]:
    assert ingress.media is not None
    return [info.key for info in await ingress.media.store.list("")]


def uploads_logged(ingress: Ingress) -> list[MediaUploaded]:
    return [e.payload for *_, e in ingress.events() if isinstance(e.payload, MediaUploaded)]


async def picture_size(client: Client, object_id: str, rendition: int) -> tuple[int, int]:
    data, _ = await download(client.media, client.auth, object_id=object_id, rendition=rendition)
    with Image.open(io.BytesIO(data)) as picture:
        assert picture.format == "JPEG"
        return picture.size


@pytest.mark.parametrize("fmt", list(media_samples.IMAGE_FORMATS))
async def test_upload__every_image_format_validates_with_renditions(
    media_ingress: Ingress, tmp_path: Path, fmt: str
) -> None:
    alice = await media_ingress.client("alice")
    path = media_samples.image(tmp_path, fmt, 800, 600)
    uploaded = await upload(alice.media, alice.auth, "image", path, chunk=64 * 1024)
    # progress grows chunk by chunk and ends at the file's size
    assert_progress_ends_at(uploaded, path.stat().st_size)
    image = uploaded.body.image
    assert (image.width, image.height) == (800, 600)
    assert image.media.mime_type == f"image/{fmt}" and image.media.file_name == path.name
    assert (image.thumbnail.width, image.thumbnail.height) == (240, 180)
    assert (image.large.width, image.large.height) == (800, 600)
    assert uploaded.result.type == common_pb2.MESSAGE_TYPE_IMAGE
    # the renditions exist in MinIO with the sizes the descriptor claims
    oid = uploaded.object_id
    assert await picture_size(alice, oid, media_pb2.RENDITION_THUMBNAIL) == (240, 180)
    assert await picture_size(alice, oid, media_pb2.RENDITION_LARGE) == (800, 600)
    original, _ = await download(alice.media, alice.auth, object_id=oid)
    assert original == path.read_bytes()
    assert sorted(await stored_keys(media_ingress)) == [
        f"media/{oid}/large",
        f"media/{oid}/original",
        f"media/{oid}/thumbnail",
    ]
    # the log carries the description, not the bytes
    (logged,) = uploads_logged(media_ingress)
    assert logged.content.media.object_id == oid


@pytest.mark.parametrize("fmt", ["mp3", "m4a"])
async def test_upload__audio_duration_is_read_from_the_file(
    media_ingress: Ingress, tmp_path: Path, fmt: str
) -> None:
    alice = await media_ingress.client("alice")
    path = media_samples.audio(tmp_path, fmt, seconds=3.0)
    uploaded = await upload(alice.media, alice.auth, "audio", path, name="voice.bin")
    assert abs(uploaded.body.audio.duration_ms - 3000) <= 100
    assert uploaded.body.audio.media.mime_type.startswith("audio/")
    assert_progress_ends_at(uploaded, path.stat().st_size)


@pytest.mark.parametrize("fmt", ["mp4", "mov"])
async def test_upload__video_gets_its_first_frame(
    media_ingress: Ingress, tmp_path: Path, fmt: str
) -> None:
    alice = await media_ingress.client("alice")
    path = media_samples.video(tmp_path, fmt, seconds=2.0, width=320, height=240)
    uploaded = await upload(alice.media, alice.auth, "video", path)
    video = uploaded.body.video
    assert (video.width, video.height) == (320, 240)
    assert abs(video.duration_ms - 2000) <= 150
    assert (video.first_frame.width, video.first_frame.height) == (320, 240)
    frame = await picture_size(alice, uploaded.object_id, media_pb2.RENDITION_FIRST_FRAME)
    assert frame == (320, 240)


async def test_upload__a_file_is_anything_and_keeps_its_detected_type(
    media_ingress: Ingress, tmp_path: Path
) -> None:
    alice = await media_ingress.client("alice")
    png_named_txt = media_samples.image(tmp_path, "png").rename(tmp_path / "notes.txt")
    uploaded = await upload(alice.media, alice.auth, "file", png_named_txt)
    assert uploaded.body.file.media.mime_type == "image/png"  # by content, not by name
    noise = media_samples.noise(tmp_path, 300_000)
    assert (await upload(alice.media, alice.auth, "file", noise)).body.file.media.size_bytes == (
        300_000
    )


async def _rejected(client: Client, kind: str, data: bytes, **options: object) -> Reason:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await upload(client.media, client.auth, kind, data, "x", **options)  # type: ignore[arg-type]
    return reason_of(caught.value)


async def test_upload__each_violation_has_its_code_and_leaves_nothing(
    media_ingress: Ingress, tmp_path: Path
) -> None:
    alice = await media_ingress.client("alice")
    png = media_samples.image(tmp_path, "png").read_bytes()
    long_mp3 = media_samples.audio(tmp_path, "mp3", seconds=301, rate=8000).read_bytes()
    m4a = media_samples.audio(tmp_path, "m4a", 1.0).read_bytes()
    noise = media_samples.noise(tmp_path, 5000).read_bytes()
    cases = [
        # declared too large: refused before any data is stored
        ("image", bytes(10 * MIB + 1), {}, Reason.MEDIA_TOO_LARGE),
        # undeclared, found too large while streaming
        ("image", png + bytes(10 * MIB), {"declare": False, "chunk": MIB}, Reason.MEDIA_TOO_LARGE),
        ("audio", bytes(6 * MIB + 1), {"declare": False, "chunk": MIB}, Reason.MEDIA_TOO_LARGE),
        # a random blob is no image; a PNG is no audio or video, whatever it is called
        ("image", noise, {}, Reason.MEDIA_TYPE_UNSUPPORTED),
        ("image", b"\x89PNG\r\n\x1a\n" + bytes(200), {}, Reason.MEDIA_TYPE_UNSUPPORTED),
        ("audio", png, {}, Reason.MEDIA_TYPE_UNSUPPORTED),
        ("video", png, {}, Reason.MEDIA_TYPE_UNSUPPORTED),
        ("video", m4a, {}, Reason.MEDIA_TYPE_UNSUPPORTED),
        ("audio", long_mp3, {}, Reason.MEDIA_DURATION_EXCEEDED),
    ]  # fmt: skip
    for kind, data, options, expected in cases:
        assert await _rejected(alice, kind, data, **options) is expected, (kind, expected)
    assert await stored_keys(media_ingress) == []
    assert uploads_logged(media_ingress) == []


async def test_upload_url__presigned_put_then_complete_validates(
    media_ingress: Ingress, tmp_path: Path
) -> None:
    alice = await media_ingress.client("alice")
    path = media_samples.image(tmp_path, "jpeg", 300, 300)
    created = await alice.media.CreateUploadUrl(
        media_pb2.CreateUploadUrlRequest(
            kind=KINDS["image"], file_name="me.jpg", size_bytes=path.stat().st_size
        ),
        metadata=alice.auth,
    )
    assert await http_put(created.url, path.read_bytes()) == 200
    result = await alice.media.CompleteUpload(
        media_pb2.CompleteUploadRequest(upload_id=created.upload_id), metadata=alice.auth
    )
    assert (result.body.image.width, result.body.image.thumbnail.width) == (300, 240)
    oid = result.body.image.media.object_id
    assert not [k for k in await stored_keys(media_ingress) if k.startswith("staging/")]
    assert f"media/{oid}/original" in await stored_keys(media_ingress)


async def test_upload_url__a_wrong_type_is_rejected_and_removed(
    media_ingress: Ingress, tmp_path: Path
) -> None:
    alice, bob = await media_ingress.client("alice"), await media_ingress.client("bob")
    request = media_pb2.CreateUploadUrlRequest(kind=KINDS["video"], file_name="a.mp4", size_bytes=9)
    created = await alice.media.CreateUploadUrl(request, metadata=alice.auth)
    assert await http_put(created.url, b"not video") == 200
    complete = media_pb2.CompleteUploadRequest(upload_id=created.upload_id)
    with pytest.raises(grpc.aio.AioRpcError) as someone_else:
        await bob.media.CompleteUpload(complete, metadata=bob.auth)
    assert reason_of(someone_else.value) is Reason.MEDIA_NOT_FOUND
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await alice.media.CompleteUpload(complete, metadata=alice.auth)
    assert reason_of(caught.value) is Reason.MEDIA_TYPE_UNSUPPORTED
    assert await stored_keys(media_ingress) == []
    too_big = media_pb2.CreateUploadUrlRequest(kind=KINDS["image"], size_bytes=10 * MIB + 1)
    with pytest.raises(grpc.aio.AioRpcError) as oversize:
        await alice.media.CreateUploadUrl(too_big, metadata=alice.auth)
    assert reason_of(oversize.value) is Reason.MEDIA_TOO_LARGE


@pytest.mark.parametrize("media_ingress", [{"media_staging_max_bytes": MIB}], indirect=True)
async def test_upload__past_the_staging_budget_the_server_is_busy_and_keeps_nothing(
    media_ingress: Ingress, tmp_path: Path
) -> None:
    alice = await media_ingress.client("alice")
    data = media_samples.noise(tmp_path, 2 * MIB).read_bytes()
    # declared: refused at the first chunk; undeclared: once the bytes sent pass the budget
    assert await _rejected(alice, "file", data) is Reason.MEDIA_SERVER_BUSY
    undeclared = {"declare": False, "chunk": 256 * 1024}
    assert await _rejected(alice, "file", data, **undeclared) is Reason.MEDIA_SERVER_BUSY
    assert await stored_keys(media_ingress) == []
    assert uploads_logged(media_ingress) == []
    # the refused uploads gave their bytes back: one that fits is accepted
    fits = await upload(alice.media, alice.auth, "file", data[: MIB // 2])
    assert fits.body.file.media.size_bytes == MIB // 2
    # a presigned upload too large to stage now is refused and kept for a retry
    request = media_pb2.CreateUploadUrlRequest(kind=KINDS["file"], size_bytes=len(data))
    created = await alice.media.CreateUploadUrl(request, metadata=alice.auth)
    assert await http_put(created.url, data) == 200
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await alice.media.CompleteUpload(
            media_pb2.CompleteUploadRequest(upload_id=created.upload_id), metadata=alice.auth
        )
    assert reason_of(caught.value) is Reason.MEDIA_SERVER_BUSY
    assert [k for k in await stored_keys(media_ingress) if k.startswith("staging/")]
    assert len(uploads_logged(media_ingress)) == 1
