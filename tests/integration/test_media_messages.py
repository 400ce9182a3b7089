"""Media messages through the real pipeline: descriptors in Kafka (never bytes), downloads with
progress and access checks, composites, forwarding, recall, and the dismissed-room cleanup."""

from __future__ import annotations

import asyncio
import urllib.request
from pathlib import Path

import grpc
import pytest

from parley.adapters.wire import content_from_proto, encode_event
from parley.domain.errors import Reason
from parley.domain.events import CombineContent, ImageContent, MessageSent, MultipleContent
from parley.gen.parley.v1 import common_pb2, ingress_pb2, media_pb2
from parley.sdk.media import download, upload
from services.media.cleanup import sweep
from tests import media_samples
from tests.integration.ingress_harness import GROUP, PEER, ROOM, Ingress
from tests.integration.test_ingress_rejections import reason_of

pytestmark = pytest.mark.integration


def ref(object_id: str, kind: str = "image") -> common_pb2.MessageBody:
    """What a client sends: just the object id; the server fills in the rest."""
    body = common_pb2.MessageBody()
    getattr(body, kind).media.object_id = object_id
    return body


def sent(ingress: Ingress, message_id: str) -> MessageSent:
    for *_, event in ingress.events():
        if isinstance(event.payload, MessageSent) and event.payload.message_id == message_id:
            return event.payload
    raise AssertionError(f"{message_id} is not in the log")


async def rejected(call: object) -> Reason:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call  # type: ignore[misc]
    return reason_of(caught.value)


async def http_get(url: str) -> bytes:
    def get() -> bytes:
        with urllib.request.urlopen(url, timeout=10) as response:
            body: bytes = response.read()
            return body

    return await asyncio.to_thread(get)


async def test_media_message__descriptors_in_kafka_and_downloads_for_readers_only(
    media_ingress: Ingress, tmp_path: Path
) -> None:
    alice, bob, carol = [await media_ingress.client(u) for u in ("alice", "bob", "carol")]
    path = media_samples.image(tmp_path, "png", 1000, 500)
    uploaded = await upload(alice.media, alice.auth, "image", path)
    oid = uploaded.object_id
    reply = await alice.send(PEER, "bob", body=ref(oid))
    # the log carries the full description the server validated, and no bytes
    content = sent(media_ingress, reply.message_id).content
    assert content == content_from_proto(uploaded.body)
    assert isinstance(content, ImageContent) and content.thumbnail.width == 240
    (event,) = [e for *_, e in media_ingress.events() if e.event_id == reply.message_id]
    assert len(encode_event(event)) < 1024 < path.stat().st_size
    # bob downloads by message, with progress ending at the total
    data, progress = await download(bob.media, bob.auth, message_id=reply.message_id)
    assert data == path.read_bytes()
    assert [s for s, _ in progress] == sorted(s for s, _ in progress)
    assert progress[-1] == (len(data), len(data))
    url = await bob.media.CreateDownloadUrl(
        media_pb2.DownloadRequest(message_id=reply.message_id), metadata=bob.auth
    )
    assert await http_get(url.url) == data
    # carol reads neither conversation: no download, no URL, no reuse of the object
    for message_id, object_id in ((reply.message_id, ""), ("", oid)):
        carol_download = download(
            carol.media, carol.auth, message_id=message_id, object_id=object_id
        )
        assert await rejected(carol_download) is Reason.MEDIA_ACCESS_DENIED
        request = media_pb2.DownloadRequest(message_id=message_id, object_id=object_id)
        carol_url = carol.media.CreateDownloadUrl(request, metadata=carol.auth)
        assert await rejected(carol_url) is Reason.MEDIA_ACCESS_DENIED
    assert await rejected(carol.send(PEER, "dave", body=ref(oid))) is Reason.MEDIA_NOT_FOUND


async def test_multiple__eleven_images_are_rejected_ten_are_fine(
    media_ingress: Ingress, tmp_path: Path
) -> None:
    alice = await media_ingress.client("alice")
    image = await upload(alice.media, alice.auth, "image", media_samples.image(tmp_path, "jpeg"))
    doc = await upload(alice.media, alice.auth, "file", media_samples.noise(tmp_path, 5000))
    text = common_pb2.MessageBody(text=common_pb2.TextContent(text="look"))

    def multiple(images: int) -> common_pb2.MessageBody:
        items = [text, *(ref(image.object_id) for _ in range(images)), ref(doc.object_id, "file")]
        return common_pb2.MessageBody(multiple=common_pb2.MultipleContent(items=items))

    before = len(media_ingress.events())
    assert await rejected(alice.send(PEER, "bob", body=multiple(11))) is Reason.TOO_MANY_IMAGES
    assert len(media_ingress.events()) == before  # nothing written
    reply = await alice.send(PEER, "bob", body=multiple(10))
    content = sent(media_ingress, reply.message_id).content
    stored_image, stored_doc = content_from_proto(image.body), content_from_proto(doc.body)
    expected = (content_from_proto(text), *[stored_image] * 10, stored_doc)
    assert content == MultipleContent(expected)


async def test_group_media__members_only_and_gone_once_recalled(
    media_ingress: Ingress, tmp_path: Path
) -> None:
    alice, bob, dave = [await media_ingress.client(u) for u in ("alice", "bob", "dave")]
    await alice.groups.CreateGroup(
        ingress_pb2.CreateGroupRequest(group_id="team", name="T", member_ids=["bob"]),
        metadata=alice.auth,
    )
    clip = await upload(alice.media, alice.auth, "video", media_samples.video(tmp_path, "mp4"))
    # only members may send media to a group
    dave_clip = await upload(dave.media, dave.auth, "video", media_samples.video(tmp_path, "mov"))
    assert await rejected(dave.send(GROUP, "team", body=ref(dave_clip.object_id, "video"))) is (
        Reason.NOT_A_MEMBER
    )
    reply = await alice.send(GROUP, "team", body=ref(clip.object_id, "video"))
    frame, _ = await download(bob.media, bob.auth, message_id=reply.message_id,
                              rendition=media_pb2.RENDITION_FIRST_FRAME)  # fmt: skip
    assert frame[:2] == b"\xff\xd8"  # a JPEG
    assert await rejected(download(dave.media, dave.auth, message_id=reply.message_id)) is (
        Reason.MEDIA_ACCESS_DENIED
    )
    assert await rejected(download(bob.media, bob.auth, message_id=reply.message_id,
                                   rendition=media_pb2.RENDITION_THUMBNAIL)) is (
        Reason.RENDITION_UNAVAILABLE
    )  # fmt: skip
    await alice.messaging.RecallMessage(
        ingress_pb2.RecallMessageRequest(
            conversation=common_pb2.ConversationRef(type=GROUP, id="team"),
            message_id=reply.message_id,
        ),
        metadata=alice.auth,
    )
    assert await rejected(download(bob.media, bob.auth, message_id=reply.message_id)) is (
        Reason.MEDIA_RECALLED
    )


async def test_forwarding__one_by_one_and_merged(media_ingress: Ingress, tmp_path: Path) -> None:
    alice, bob, carol = [await media_ingress.client(u) for u in ("alice", "bob", "carol")]
    photo = await upload(alice.media, alice.auth, "image", media_samples.image(tmp_path, "gif"))
    original = await alice.send(PEER, "bob", body=ref(photo.object_id))
    # one by one: bob sends a copy of the content he can read to carol
    copy = await bob.send(PEER, "carol", body=photo.body)
    data, _ = await download(carol.media, carol.auth, message_id=copy.message_id)
    assert len(data) == photo.body.image.media.size_bytes
    # merged: a titled list of snapshots, checked against the originals
    snapshot = common_pb2.ForwardedMessage(
        message_id=original.message_id, sender_id="alice", body=ref(photo.object_id)
    )
    combine = common_pb2.CombineContent(title="alice and me", messages=[snapshot])
    merged = await bob.send(PEER, "carol", body=common_pb2.MessageBody(combine=combine))
    content = sent(media_ingress, merged.message_id).content
    assert isinstance(content, CombineContent)
    assert content.messages[0].content == content_from_proto(photo.body)
    assert content.messages[0].sent_at_ms > 0
    # carol cannot forward what she never read
    assert await rejected(
        carol.send(PEER, "dave", body=common_pb2.MessageBody(combine=combine))
    ) is (Reason.MESSAGE_NOT_FOUND)


async def test_cleanup__objects_of_dismissed_rooms_and_stale_uploads_are_deleted(
    media_ingress: Ingress, tmp_path: Path
) -> None:
    assert media_ingress.media is not None
    store, model = media_ingress.media.store, media_ingress.media.ingress.model
    alice = await media_ingress.client("alice")
    await alice.rooms.CreateRoom(ingress_pb2.CreateRoomRequest(room_id="gig", name="G"),
                                 metadata=alice.auth)  # fmt: skip
    in_room = await upload(alice.media, alice.auth, "image", media_samples.image(tmp_path, "webp"))
    kept = await upload(alice.media, alice.auth, "file", media_samples.noise(tmp_path, 999))
    await alice.send(ROOM, "gig", body=ref(in_room.object_id))
    await alice.media.CreateUploadUrl(
        media_pb2.CreateUploadUrlRequest(kind=common_pb2.MESSAGE_TYPE_FILE, size_bytes=5),
        metadata=alice.auth,
    )
    # nothing is due while the room lives and the staged upload is fresh
    now = media_ingress.media.ingress.clock_ms()
    report = await sweep(model, store, now)
    assert (report.room_objects_deleted, report.staged_files_deleted) == (0, 0)
    await alice.rooms.DismissRoom(ingress_pb2.RoomRequest(room_id="gig"), metadata=alice.auth)
    report = await sweep(model, store, now + 2 * 24 * 3600 * 1000)
    assert (report.room_objects_deleted, report.staged_files_deleted) == (1, 1)
    keys = [info.key for info in await store.list("")]
    assert not [k for k in keys if in_room.object_id in k or k.startswith("staging/")]
    assert f"media/{kept.object_id}/original" in keys
    assert (await sweep(model, store, now)).room_objects_deleted == 0  # idempotent
