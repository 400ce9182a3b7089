"""A media message reaches the recipient's live session with a download reference that works."""

from __future__ import annotations

from pathlib import Path

import pytest

from parley.gen.parley.v1 import common_pb2
from parley.sdk.media import download, upload
from tests import media_samples
from tests.integration.delivery.conftest import LiveStack
from tests.integration.delivery.harness import SessionClient
from tests.integration.ingress_harness import PEER

pytestmark = pytest.mark.integration


async def test_delivery__image_message_arrives_with_a_working_download_reference(
    bob_online: tuple[LiveStack, SessionClient], tmp_path: Path
) -> None:
    live, session = bob_online
    alice, bob = live.alice, live.bob
    # Alice uploads an image and sends a message that refers to it by object id only.
    path = media_samples.image(tmp_path, "jpeg", 800, 600)
    uploaded = await upload(alice.media, alice.auth, "image", path)
    body = common_pb2.MessageBody()
    body.image.media.object_id = uploaded.object_id
    reply = await alice.send(PEER, "bob", body=body)
    # Bob's live session gets it with the server-filled description (renditions, sizes).
    await session.wait(lambda s: len(s.messages(reply.conversation_key)) >= 1)
    (delivered,) = session.messages(reply.conversation_key)
    image = delivered.message.body.image
    assert delivered.message.message_id == reply.message_id and delivered.live
    assert image.media.object_id == uploaded.object_id
    assert (image.width, image.height) == (800, 600)
    assert image.thumbnail.width == 240 and image.large.width == 800
    # The reference it carries downloads the original bytes for bob.
    data, progress = await download(bob.media, bob.auth, message_id=delivered.message.message_id)
    assert data == path.read_bytes() and progress[-1] == (len(data), len(data))
