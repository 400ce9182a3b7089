"""The media server's scheduled cleanup over the in-memory blob store: what a pass deletes, and
that a pass with nothing new to do does not touch the store."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import pytest

from parley.adapters.memory import InMemoryBlobStore
from parley.adapters.memory_media_archive import InMemoryMediaArchive
from parley.adapters.memory_projection_store import InMemoryReadModels
from parley.domain.commands import SendCommand, Stamp
from parley.domain.conversations import ConversationType
from parley.domain.events import Event, ImageContent, Logged, MediaRef, Picture, Position
from parley.domain.fold_windows import FoldWindows
from parley.domain.limits import Limits
from parley.domain.media_access import Rendition, object_key
from parley.domain.media_uploads import decide_media_uploaded, object_id_from
from parley.domain.moderation import build_interceptor_chain
from parley.domain.projection_fold import fold
from parley.domain.rate_limit import RateLimiter
from parley.domain.rooms import decide_create_room, decide_dismiss_room
from parley.domain.sending import SendDecider
from parley.domain.write_model import WriteModel
from parley.media_lookup import MediaLookup
from parley.ports import BlobStoreUnavailable
from services.media.cleanup import STALE_AFTER_MS, CleanupReport, MediaCleanup, cleanup_every
from services.media.staging import STAGING_PREFIX
from tests.unit.domain.room_media import RoomMedia

ROOM = ConversationType.ROOM
HOUR_MS = 3600 * 1000
IMAGE_RENDITIONS = (Rendition.ORIGINAL, Rendition.LARGE, Rendition.THUMBNAIL)


class Clock:
    def __init__(self) -> None:
        self.now_ms = 10 * STALE_AFTER_MS

    def __call__(self) -> int:
        return self.now_ms


async def store_image(store: InMemoryBlobStore, object_id: str) -> None:
    for rendition in IMAGE_RENDITIONS:
        await store.put_bytes(object_key(object_id, rendition), b"x", "image/jpeg")


async def keys_of(store: InMemoryBlobStore, object_id: str) -> list[str]:
    return [info.key for info in await store.list(f"media/{object_id}/")]


async def is_gone(store: InMemoryBlobStore, object_id: str) -> bool:
    return not await keys_of(store, object_id)


async def shown_in_room(stage: RoomMedia, store: InMemoryBlobStore, room_id: str) -> str:
    stage.create_room(room_id)
    object_id = stage.upload(room_id)
    stage.show(object_id, ROOM, room_id)
    await store_image(store, object_id)
    return object_id


async def test_media_cleanup__deletes_a_room_dismissed_since_the_last_pass() -> None:
    stage, store, clock = RoomMedia(), InMemoryBlobStore(), Clock()
    cleanup = MediaCleanup(stage.model, store, clock)
    photo = await shown_in_room(stage, store, "gig")
    assert await cleanup.sweep_due() == CleanupReport(0, 0, 0)
    stage.dismiss_room("gig")
    assert await cleanup.sweep_due() == CleanupReport(1, 0, 0)
    assert await keys_of(store, photo) == []
    assert stage.model.media.get(photo) is None  # forgotten: the next pass skips it


async def test_media_cleanup__a_pass_with_nothing_new_does_not_touch_the_store() -> None:
    stage, store, clock = RoomMedia(), InMemoryBlobStore(), Clock()
    cleanup = MediaCleanup(stage.model, store, clock)
    await shown_in_room(stage, store, "gig")
    stage.dismiss_room("gig")
    await cleanup.sweep_due()
    store.available = False  # any call would raise now
    clock.now_ms += HOUR_MS - 1
    assert await cleanup.sweep_due() == CleanupReport(0, 0, 0)
    clock.now_ms += 1  # the hourly look at the staging area is due: the store is called
    with pytest.raises(BlobStoreUnavailable):
        await cleanup.sweep_due()


async def test_media_cleanup__a_failed_pass_is_done_by_the_next() -> None:
    stage, store, clock = RoomMedia(), InMemoryBlobStore(), Clock()
    cleanup = MediaCleanup(stage.model, store, clock)
    await cleanup.sweep_due()
    photo = await shown_in_room(stage, store, "gig")
    stage.dismiss_room("gig")
    store.available = False
    with pytest.raises(BlobStoreUnavailable):
        await cleanup.sweep_due()
    store.available = True
    assert (await cleanup.sweep_due()).room_objects_deleted == 1
    assert await keys_of(store, photo) == []


async def test_media_cleanup__stale_uploads_go_at_the_hourly_check() -> None:
    stage, clock = RoomMedia(), Clock()
    store = InMemoryBlobStore(clock)
    cleanup = MediaCleanup(stage.model, store, clock)
    await store.put_bytes(f"{STAGING_PREFIX}old", b"x", "")
    store.start_multipart("media/o_crashed/original")
    clock.now_ms += STALE_AFTER_MS + 1
    await store.put_bytes(f"{STAGING_PREFIX}fresh", b"x", "")
    assert await cleanup.sweep_due() == CleanupReport(0, 1, 1)
    assert [info.key for info in await store.list(STAGING_PREFIX)] == [f"{STAGING_PREFIX}fresh"]


async def wait_until(condition: Callable[[], Awaitable[bool]], timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not await condition():
        assert time.monotonic() < deadline, f"not so after {timeout_s}s"
        await asyncio.sleep(0.01)


async def test_cleanup_every__sweeps_on_its_own_while_the_block_runs() -> None:
    stage, store = RoomMedia(), InMemoryBlobStore()
    async with cleanup_every(stage.model, store, interval_s=0.05):
        photo = await shown_in_room(stage, store, "gig")
        stage.dismiss_room("gig")
        await wait_until(lambda: is_gone(store, photo))


async def test_cleanup_every__a_store_outage_is_logged_and_outlived(
    caplog: pytest.LogCaptureFixture,
) -> None:
    stage, store = RoomMedia(), InMemoryBlobStore()
    photo = await shown_in_room(stage, store, "gig")
    stage.dismiss_room("gig")
    store.available = False

    async def has_failed() -> bool:
        return "media cleanup failed" in caplog.text

    async with cleanup_every(stage.model, store, interval_s=0.05):
        await wait_until(has_failed)
        store.available = True
        await wait_until(lambda: is_gone(store, photo))


async def test_cleanup_every__zero_means_never() -> None:
    stage, store = RoomMedia(), InMemoryBlobStore()
    before = asyncio.all_tasks()
    async with cleanup_every(stage.model, store, interval_s=0):
        assert asyncio.all_tasks() == before  # nothing scheduled


async def test_media_cleanup__a_room_s_media_older_than_the_window_comes_from_the_archive() -> None:
    # 1. alice shows a photo in room "gig"; the log moves on past the media window
    window_ms = 60_000
    model = WriteModel(windows=FoldWindows(media_ms=window_ms))
    logged: list[Logged] = []

    def apply(event: Event) -> None:
        logged.append(Logged(event, Position(0, len(logged))))
        model.apply(logged[-1])

    decider = SendDecider(model, Limits(), RateLimiter(1000), build_interceptor_chain(None, []))
    apply(decide_create_room("alice", "gig", "G", model, Limits(), Stamp(1, "r")))
    photo = object_id_from(b"old photo.......")
    image = ImageContent(MediaRef(photo, "", "a.png", 9, "image/png"), 4, 3, Picture(2, 1, 5))
    apply(decide_media_uploaded("alice", image, Stamp(2, "u")))
    command = SendCommand("alice", ROOM, "gig", "c1", ImageContent(MediaRef(photo)))
    decision = decider.prepare(command, Stamp(3, "s"))
    assert isinstance(decision, Event)
    apply(decision)
    apply(decide_create_room("bob", "jam", "J", model, Limits(), Stamp(3 * window_ms, "r2")))
    assert not model.media.holds(photo) and model.media.objects_in("r:gig") == []
    # 2. the projector archived it; the room is dismissed
    models = InMemoryReadModels()
    models.apply(fold({}, logged).writes.values())
    apply(decide_dismiss_room("alice", "gig", model, Stamp(3 * window_ms + 1, "d")))
    store = InMemoryBlobStore()
    await store_image(store, photo)
    # 3. the registry alone no longer knows what the room showed; the archive does
    assert await MediaCleanup(model, store, Clock()).sweep_due() == CleanupReport(0, 0, 0)
    lookup = MediaLookup(InMemoryMediaArchive(models), model.media)
    cleanup = MediaCleanup(model, store, Clock(), lookup=lookup)
    assert await cleanup.sweep_due() == CleanupReport(1, 0, 0)
    assert await is_gone(store, photo)
