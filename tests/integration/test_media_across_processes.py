"""Uploads on one server process, messages on another (the media server and an ingress worker):
each sees what the other appended a moment ago, because a miss first catches up with the log."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from parley.sdk.media import download, upload
from tests import media_samples
from tests.integration.ingress_harness import PEER, IngressFactory
from tests.integration.test_media_messages import ref

pytestmark = pytest.mark.integration


async def test_media__an_upload_on_one_process_is_usable_at_once_on_another(
    ingress_factory: IngressFactory, unique_name: Callable[[str], str], tmp_path: Path
) -> None:
    prefix = unique_name("test-media") + "/"
    media_server = await ingress_factory(media_prefix=prefix)
    ingress = await ingress_factory(topics=media_server.topics, media_prefix=prefix)
    uploader = await media_server.client("alice")
    sender = await ingress.client("alice")
    bob = await media_server.client("bob")
    try:
        for i in range(5):
            path = media_samples.image(tmp_path, "png", 64 + i, 48)
            uploaded = await upload(uploader.media, uploader.auth, "image", path)
            # Sent through the other process the moment the upload returned: no MEDIA_NOT_FOUND.
            reply = await sender.send(PEER, "bob", body=ref(uploaded.object_id))
            assert reply.message_id
            # Bob downloads through the media process the moment the send returned: the
            # message that grants him access was appended by the other process.
            data, _ = await download(bob.media, bob.auth, message_id=reply.message_id)
            assert data == path.read_bytes()
    finally:
        assert media_server.media is not None
        store = media_server.media.store
        await store.delete([info.key for info in await store.list("")])
