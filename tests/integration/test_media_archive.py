"""Media older than the registry's window on the real engines: the projector archives uploads
and the messages carrying them in Cassandra, and downloads and one-by-one forwards of such
media go through the archive, with the reason codes the in-memory rules give."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from parley.adapters.cassandra import connect
from parley.adapters.cassandra_media_archive import CassandraMediaArchive
from parley.adapters.wire import content_from_proto
from parley.domain.errors import Reason
from parley.domain.fold_windows import MEDIA_WINDOW_MS
from parley.domain.media_uploads import object_id_from
from parley.gen.parley.v1 import common_pb2, ingress_pb2, media_pb2
from parley.sdk.media import download, upload
from tests import media_samples
from tests.integration.ingress_harness import GROUP, PEER, Ingress, IngressFactory
from tests.integration.projection_harness import (  # noqa: F401 (fixtures)
    ProjectionEnv,
    projected_ingress_fixture,
    projection_env_fixture,
)
from tests.integration.test_media_messages import ref, rejected, sent
from tests.unit.domain.test_projection_media import OBJECTS, ROOM_KEY, image, media_history

pytestmark = pytest.mark.integration
HOUR_MS = 3600 * 1000


class Clock:
    """The ingress's clock, moved by the test: server times, never the wall clock, age media."""

    def __init__(self, now_ms: int) -> None:
        self.now_ms = now_ms

    def __call__(self) -> int:
        return self.now_ms


class Stage:
    def __init__(self, ingress: Ingress, projector: ProjectionEnv, clock: Clock) -> None:
        self.ingress, self.projector, self.clock = ingress, projector, clock
        assert ingress.media is not None
        self.context = ingress.media.ingress

    def rows(self, cql: str) -> list[Any]:
        return list(
            self.projector.session.execute(cql.replace("KS.", f"{self.projector.keyspace}."))
        )


@pytest.fixture
async def stage(
    projected_ingress: IngressFactory, projection_env: ProjectionEnv
) -> AsyncIterator[Stage]:
    # An ingress with MediaService and a projector worker on the same topics and keyspace.
    ingress: Ingress = await projected_ingress()
    assert ingress.media is not None
    clock = Clock(ingress.media.ingress.clock_ms())
    staged = Stage(ingress, projection_env, clock)
    staged.context.clock_ms = clock
    projection_env.start_worker()
    try:
        yield staged
    finally:
        store = ingress.media.store
        await store.delete([info.key for info in await store.list("")])


async def test_media_archive__old_media_is_downloaded_and_forwarded_by_readers_only(
    stage: Stage, tmp_path: Path
) -> None:
    alice, bob, carol, dave = [
        await stage.ingress.client(u) for u in ("alice", "bob", "carol", "dave")
    ]
    # 1. alice's group with bob; two photos uploaded and sent to it, an hour ago
    await alice.groups.CreateGroup(
        ingress_pb2.CreateGroupRequest(group_id="team", name="T", member_ids=["bob"]),
        metadata=alice.auth,
    )
    paths = [media_samples.image(tmp_path, "png", width, 48) for width in (64, 65)]
    photos = [await upload(alice.media, alice.auth, "image", path) for path in paths]
    shown, forwarded = photos
    in_group = [(await alice.send(GROUP, "team", body=ref(p.object_id))).message_id for p in photos]
    # 2. an hour on (server time): the next event moves every fold's window past them
    stage.clock.now_ms += HOUR_MS
    await alice.send(PEER, "bob", "an hour later")
    await stage.projector.wait_applied()
    registry = stage.context.model.media
    for photo, message_id in zip(photos, in_group, strict=True):
        assert not registry.holds(photo.object_id) and not registry.holds_message(message_id)
    assert registry.newest_ms - MEDIA_WINDOW_MS > stage.clock.now_ms - HOUR_MS
    # 3. bob reads the group: he downloads by message and by object id; carol may not
    data, _ = await download(bob.media, bob.auth, message_id=in_group[0])
    assert data == paths[0].read_bytes()
    data_by_id, _ = await download(bob.media, bob.auth, object_id=shown.object_id)
    assert data_by_id == data
    for message_id, object_id in ((in_group[0], ""), ("", shown.object_id)):
        denied = download(carol.media, carol.auth, message_id=message_id, object_id=object_id)
        assert await rejected(denied) is Reason.MEDIA_ACCESS_DENIED
        request = media_pb2.DownloadRequest(message_id=message_id, object_id=object_id)
        url = carol.media.CreateDownloadUrl(request, metadata=carol.auth)
        assert await rejected(url) is Reason.MEDIA_ACCESS_DENIED
    # 4. bob forwards the other one by one to carol; dave, who reads neither, may not
    copy = await bob.send(PEER, "carol", body=ref(forwarded.object_id))
    assert sent(stage.ingress, copy.message_id).content == content_from_proto(forwarded.body)
    carols, _ = await download(carol.media, carol.auth, message_id=copy.message_id)
    assert carols == paths[1].read_bytes()
    assert await rejected(dave.send(PEER, "erin", body=ref(shown.object_id))) is (
        Reason.MEDIA_NOT_FOUND
    )
    # 5. alice, the group's owner, recalls the first: refused at once, and once archived too
    await alice.messaging.RecallMessage(
        ingress_pb2.RecallMessageRequest(
            conversation=common_pb2.ConversationRef(type=GROUP, id="team"),
            message_id=in_group[0],
        ),
        metadata=alice.auth,
    )
    for archived in (False, True):
        if archived:
            await stage.projector.wait_applied()
            (row,) = stage.rows(
                "SELECT recalled FROM KS.media_attachments_by_object "
                f"WHERE object_id = '{shown.object_id}' AND message_id = '{in_group[0]}'"
            )
            assert row.recalled
        by_message = download(bob.media, bob.auth, message_id=in_group[0])
        assert await rejected(by_message) is Reason.MEDIA_RECALLED
        by_object = download(bob.media, bob.auth, object_id=shown.object_id)
        assert await rejected(by_object) is Reason.MEDIA_RECALLED
        again = bob.send(PEER, "carol", body=ref(shown.object_id), cmid=f"again-{archived}")
        assert await rejected(again) is Reason.MEDIA_NOT_FOUND
    # the uploads sit on alice's own stream: the projector keeps no conversation state for it
    assert stage.rows("SELECT * FROM KS.projection_state_by_conversation "
                      "WHERE conversation_key = 'u:alice'") == []  # fmt: skip


async def test_media_archive__projected_exactly_and_replayed_byte_for_byte(
    projection_env: ProjectionEnv, unique_name: Callable[[str], str]
) -> None:
    # 1. live: two parts, so the second recall names a message of an earlier batch
    events = [logged.event for logged in media_history()]
    split = next(i for i, e in enumerate(events) if e.event_id == "m4")
    projection_env.start_worker()
    await projection_env.produce(events[:split])
    await projection_env.wait_applied()
    await projection_env.produce(events[split:])
    await projection_env.wait_applied()
    # 2. the archive as the rules read it
    cluster, session = connect(["127.0.0.1"], 9042, projection_env.keyspace)
    try:
        archive = CassandraMediaArchive(session)
        o = OBJECTS
        found = await archive.media([*o, object_id_from(b"never uploaded..")])
        assert set(found) == set(o)
        recalled = {(oid, m): a.recalled for oid in o for m, a in found[oid].attachments.items()}
        assert recalled == {
            (o[0], "m1"): True,  # recalled in its own batch, then appended again: still recalled
            (o[1], "m2"): True,  # recalled a batch later: both objects of the composite
            (o[2], "m2"): True,
            (o[3], "m4"): False,
            (o[4], "m3"): False,
        }
        assert found[o[4]].owner == "erin" and found[o[0]].content == image(o[0])
        assert await archive.objects_of("m2") == tuple(sorted(o[1:3]))
        # the dismissed room's history is gone, what it showed is still listed for the cleanup
        assert await archive.objects_in_room(ROOM_KEY) == [o[4]]
    finally:
        await asyncio.to_thread(cluster.shutdown)
    rows = projection_env.session.execute(
        f"SELECT conversation_key FROM {projection_env.keyspace}.projection_state_by_conversation"
    )
    assert not [r for r in rows if r.conversation_key.startswith("u:")]
    # 3. replay from offset 0 into a fresh keyspace: the same bytes, media tables included
    await projection_env.assert_replay_identical(unique_name("replay"))
