"""Media cleanup: deletes objects of dismissed rooms, stale staged uploads and incomplete multipart
uploads. The media server runs it every `media_cleanup_interval_s` (`cleanup_every`);
`python -m services.media.cleanup` folds the log, sweeps once and prints a JSON line."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import asdict, dataclass

from parley.adapters.cassandra import connect_configured
from parley.adapters.cassandra_media_archive import CassandraMediaArchive
from parley.adapters.kafka import KafkaEventFeed
from parley.config import Settings
from parley.domain.media_access import object_key, renditions_of
from parley.domain.media_objects import NOTHING_ARCHIVED
from parley.domain.media_retention import doomed_by_dismissal
from parley.domain.rooms import room_conversation
from parley.domain.write_model import WriteModel
from parley.media_lookup import MediaLookup
from parley.ports import BlobStore
from services.media.app import blob_store_of
from services.media.staging import STAGING_PREFIX
from services.shell.clock import wall_clock_ms

log = logging.getLogger(__name__)

STALE_AFTER_MS = 24 * 3600 * 1000  # staged and multipart uploads older than a day are garbage
# Garbage that is a day old can wait an hour: the schedule lists the staging area hourly.
STALE_CHECK_EVERY_MS = 3600 * 1000
CATCH_UP_TIMEOUT_S = 600.0


@dataclass(frozen=True)
class CleanupReport:
    room_objects_deleted: int
    staged_files_deleted: int
    incomplete_uploads_aborted: int

    @property
    def is_empty(self) -> bool:
        return not any(asdict(self).values())


async def delete_dismissed(
    model: WriteModel,
    store: BlobStore,
    lookup: MediaLookup | None = None,
    room_keys: Sequence[str] = (),
) -> int:
    """Deletes every rendition of the objects left only in dismissed rooms, then forgets them
    (so the next pass does not delete them again); their count. The registry's window is
    looked at, and with `lookup` every object the rooms `room_keys` showed, from the archive."""
    archived = NOTHING_ARCHIVED
    if lookup is not None and room_keys:
        archived = await lookup.archived_in_rooms(room_keys)
    doomed = doomed_by_dismissal(model, archived)
    keys = [
        object_key(stored.object_id, rendition)
        for stored in doomed
        for rendition in renditions_of(stored.content)
    ]
    await store.delete(keys)
    for stored in doomed:
        model.media.forget(stored.object_id)
    return len(doomed)


async def delete_stale(
    store: BlobStore, now_ms: int, stale_after_ms: int = STALE_AFTER_MS
) -> tuple[int, int]:
    """Deletes staged uploads and aborts multipart uploads older than `stale_after_ms`."""
    cutoff = now_ms - stale_after_ms
    staged = [info.key for info in await store.list(STAGING_PREFIX) if info.modified_ms < cutoff]
    await store.delete(staged)
    return len(staged), await store.abort_incomplete_uploads("", cutoff)


def dismissed_room_keys(model: WriteModel) -> list[str]:
    return [room_conversation(room_id).key for room_id in model.directory.dismissed_rooms()]


async def sweep(
    model: WriteModel,
    store: BlobStore,
    now_ms: int,
    stale_after_ms: int = STALE_AFTER_MS,
    lookup: MediaLookup | None = None,
) -> CleanupReport:
    """One whole pass; idempotent (deleting what is gone is a no-op), so it may run any time."""
    deleted = await delete_dismissed(model, store, lookup, dismissed_room_keys(model))
    return CleanupReport(deleted, *await delete_stale(store, now_ms, stale_after_ms))


class MediaCleanup:
    """The sweep on a schedule, in a process whose write model follows the log (the media
    server). A pass reads the media registry and the archive only when a room was dismissed
    since the last good pass, and then only for the rooms it has not swept yet; it lists the
    staging area at most hourly: with nothing to do, it is one comparison. Every delete is
    idempotent, so several media servers may each run one."""

    def __init__(
        self,
        model: WriteModel,
        store: BlobStore,
        clock_ms: Callable[[], int],
        stale_check_every_ms: int = STALE_CHECK_EVERY_MS,
        lookup: MediaLookup | None = None,
    ) -> None:
        self._model = model
        self._store = store
        self._clock_ms = clock_ms
        self._stale_check_every_ms = stale_check_every_ms
        self._lookup = lookup
        self._rooms_dismissed_swept = -1  # the first pass looks at every dismissed room
        self._rooms_swept: set[str] = set()
        self._stale_checked_at_ms: int | None = None

    async def sweep_due(self) -> CleanupReport:
        now_ms = self._clock_ms()
        deleted = staged = aborted = 0
        # Read before the pass: a dismissal folded while it awaits MinIO makes the next one run.
        rooms_dismissed = self._model.directory.rooms_dismissed
        if rooms_dismissed != self._rooms_dismissed_swept:
            rooms = [k for k in dismissed_room_keys(self._model) if k not in self._rooms_swept]
            deleted = await delete_dismissed(self._model, self._store, self._lookup, rooms)
            self._rooms_swept.update(rooms)
            self._rooms_dismissed_swept = rooms_dismissed
        checked = self._stale_checked_at_ms
        if checked is None or now_ms - checked >= self._stale_check_every_ms:
            staged, aborted = await delete_stale(self._store, now_ms)
            self._stale_checked_at_ms = now_ms
        return CleanupReport(deleted, staged, aborted)

    async def run_every(self, interval_s: float) -> None:
        """A pass now and every `interval_s` after, until cancelled."""
        while True:
            try:
                report = await self.sweep_due()
            except Exception:  # MinIO down, refused: the next pass retries what this one missed
                log.warning("media cleanup failed, retrying in %s s", interval_s, exc_info=True)
            else:
                if not report.is_empty:
                    log.info("media cleanup deleted garbage", extra=asdict(report))
            await asyncio.sleep(interval_s)


@contextlib.asynccontextmanager
async def cleanup_every(
    model: WriteModel, store: BlobStore, interval_s: float, lookup: MediaLookup | None = None
) -> AsyncIterator[None]:
    """Runs `MediaCleanup` every `interval_s` (0: never) while the block runs."""
    if interval_s <= 0:
        log.info("media cleanup is off (media_cleanup_interval_s = 0)")
        yield
        return
    cleanup = MediaCleanup(model, store, wall_clock_ms, lookup=lookup)
    task = asyncio.create_task(cleanup.run_every(interval_s))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def run(settings: Settings) -> CleanupReport:
    """Folds the whole conversation log into a fresh write model, then sweeps MinIO once over
    it and the media archive."""
    model = WriteModel(windows=settings.fold_windows())
    feed = KafkaEventFeed(settings.kafka_bootstrap, model, (settings.topic_conversation_events,))
    await feed.start()
    try:
        await feed.wait_caught_up(CATCH_UP_TIMEOUT_S)
    finally:
        await feed.close()
    cluster, session = await asyncio.to_thread(connect_configured, settings)
    try:
        lookup = MediaLookup(CassandraMediaArchive(session), model.media)
        return await sweep(model, blob_store_of(settings), wall_clock_ms(), lookup=lookup)
    finally:
        await asyncio.to_thread(cluster.shutdown)


if __name__ == "__main__":
    print(json.dumps(asdict(asyncio.run(run(Settings())))))
