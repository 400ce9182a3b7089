"""`parley run` deletes a dismissed room's media from MinIO by itself, within the configured
cleanup interval, and the presigned download URLs handed out before the dismiss stop working."""

from __future__ import annotations

import asyncio
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest

from parley.config import Settings
from parley.gen.parley.v1 import (
    common_pb2,
    ingress_pb2,
    ingress_pb2_grpc,
    media_pb2,
    media_pb2_grpc,
)
from parley.sdk import AdminClient
from parley.sdk.media import upload
from tests import media_samples
from tests.e2e.conftest import stack_of
from tests.e2e.stack import Stack

pytestmark = pytest.mark.integration

CLEANUP_INTERVAL_S = 3
# The media server sees the dismiss through the log (milliseconds) and deletes a few keys.
SLACK_S = 5.0


@pytest.fixture(scope="module")
def cleanup_stack(tmp_path_factory: pytest.TempPathFactory, engines: Any) -> Iterator[Stack]:
    settings = {"PARLEY_MEDIA_CLEANUP_INTERVAL_S": str(CLEANUP_INTERVAL_S)}
    with stack_of(tmp_path_factory.mktemp("cleanup"), engines, settings=settings) as stack:
        yield stack
        stack.stop()


def message(
    conversation_type: common_pb2.ConversationType.ValueType,
    conversation_id: str,
    object_id: str,
    client_id: str,
) -> ingress_pb2.SendMessageRequest:
    body = common_pb2.MessageBody()
    body.image.media.object_id = object_id
    return ingress_pb2.SendMessageRequest(
        conversation=common_pb2.ConversationRef(type=conversation_type, id=conversation_id),
        client_message_id=client_id,
        body=body,
    )


def stored_keys(minio_client: Any, object_id: str) -> list[str]:
    found = minio_client.list_objects(
        Settings().minio_bucket, prefix=f"media/{object_id}/", recursive=True
    )
    return [item.object_name for item in found]


def http_status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


async def wait_until_gone(minio_client: Any, object_id: str, timeout_s: float) -> float:
    """Seconds until MinIO holds no key of `object_id`; fails after `timeout_s`."""
    started = time.monotonic()
    while stored_keys(minio_client, object_id):
        if time.monotonic() - started > timeout_s:
            raise AssertionError(f"{object_id} still in MinIO {timeout_s}s after the dismiss")
        await asyncio.sleep(0.2)
    return time.monotonic() - started


async def test_media_cleanup__dismissed_room_media_is_deleted_within_the_interval(
    cleanup_stack: Stack, tmp_path: Path, minio_client: Any
) -> None:
    stack = cleanup_stack
    async with AdminClient(stack.ingress, stack.admin_secret) as admin:
        auth = {u: (("authorization", f"Bearer {(await admin.issue_token(u)).token}"),)
                for u in ("lena", "omar")}  # fmt: skip
    async with (
        grpc.aio.insecure_channel(stack.media) as media_channel,
        grpc.aio.insecure_channel(stack.ingress) as ingress_channel,
    ):
        media = media_pb2_grpc.MediaServiceStub(media_channel)
        rooms = ingress_pb2_grpc.RoomServiceStub(ingress_channel)
        messaging = ingress_pb2_grpc.MessagingServiceStub(ingress_channel)
        # lena shows an image in her room, and another one to omar in their peer conversation
        await rooms.CreateRoom(
            ingress_pb2.CreateRoomRequest(room_id="stage", name="Stage"), metadata=auth["lena"]
        )
        in_room = await upload(media, auth["lena"], "image", media_samples.image(tmp_path, "png"))
        elsewhere = await upload(
            media, auth["lena"], "image", media_samples.image(tmp_path, "webp")
        )
        await messaging.SendMessage(
            message(common_pb2.CONVERSATION_TYPE_ROOM, "stage", in_room.object_id, "r-1"),
            metadata=auth["lena"],
        )
        await messaging.SendMessage(
            message(common_pb2.CONVERSATION_TYPE_PEER, "omar", elsewhere.object_id, "p-1"),
            metadata=auth["lena"],
        )
        link = await media.CreateDownloadUrl(
            media_pb2.DownloadRequest(object_id=in_room.object_id), metadata=auth["lena"]
        )
        assert await asyncio.to_thread(http_status, link.url) == 200
        assert len(stored_keys(minio_client, in_room.object_id)) == 3  # original, large, thumb
        # the dismiss: nobody runs anything by hand afterwards
        await rooms.DismissRoom(ingress_pb2.RoomRequest(room_id="stage"), metadata=auth["lena"])
        took_s = await wait_until_gone(
            minio_client, in_room.object_id, CLEANUP_INTERVAL_S + SLACK_S
        )
    assert took_s <= CLEANUP_INTERVAL_S + SLACK_S
    # the link handed out before the dismiss no longer serves the bytes
    assert await asyncio.to_thread(http_status, link.url) == 404
    # what a live conversation carries stays
    assert len(stored_keys(minio_client, elsewhere.object_id)) == 3
