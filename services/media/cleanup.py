"""Media cleanup: deletes objects of dismissed rooms, stale staged uploads and incomplete multipart
uploads. `python -m services.media.cleanup` folds the log, sweeps once and prints a JSON line."""

from __future__ import annotations

import asyncio
import json
from dataclasses import asdict, dataclass

from parley.adapters.kafka import KafkaEventFeed
from parley.config import Settings
from parley.domain.directory import Directory
from parley.domain.media_access import object_key, renditions_of
from parley.domain.media_registry import StoredMedia
from parley.domain.write_model import WriteModel
from parley.ports import BlobStore
from services.ingress.context import wall_clock_ms
from services.media.app import blob_store_of
from services.media.staging import STAGING_PREFIX

STALE_AFTER_MS = 24 * 3600 * 1000  # staged and multipart uploads older than a day are garbage
CATCH_UP_TIMEOUT_S = 600.0


@dataclass(frozen=True)
class CleanupReport:
    room_objects_deleted: int
    staged_files_deleted: int
    incomplete_uploads_aborted: int


def _in_dismissed_room(conversation_key: str, directory: Directory) -> bool:
    kind, _, room_id = conversation_key.partition(":")
    room = directory.room(room_id) if kind == "r" else None
    return room is not None and room.dismissed


def doomed_by_dismissal(model: WriteModel) -> list[StoredMedia]:
    """Objects every message of which went to rooms since dismissed: a dismissed room keeps
    nothing. An object forwarded elsewhere too stays, for the other conversation's readers."""
    return [
        stored
        for stored in model.media.all()
        if stored.attachments
        and all(
            _in_dismissed_room(a.conversation_key, model.directory)
            for a in stored.attachments.values()
        )
    ]


async def sweep(
    model: WriteModel, store: BlobStore, now_ms: int, stale_after_ms: int = STALE_AFTER_MS
) -> CleanupReport:
    """One pass; idempotent (deleting what is gone is a no-op), so it may run any time."""
    doomed = doomed_by_dismissal(model)
    keys = [
        object_key(stored.object_id, rendition)
        for stored in doomed
        for rendition in renditions_of(stored.content)
    ]
    await store.delete(keys)
    for stored in doomed:
        model.media.forget(stored.object_id)
    cutoff = now_ms - stale_after_ms
    staged = [info.key for info in await store.list(STAGING_PREFIX) if info.modified_ms < cutoff]
    await store.delete(staged)
    aborted = await store.abort_incomplete_uploads("", cutoff)
    return CleanupReport(len(doomed), len(staged), aborted)


async def run(settings: Settings) -> CleanupReport:
    """Folds the whole conversation log into a fresh write model, then sweeps MinIO once."""
    model = WriteModel()
    feed = KafkaEventFeed(settings.kafka_bootstrap, model, (settings.topic_conversation_events,))
    await feed.start()
    try:
        await feed.wait_caught_up(CATCH_UP_TIMEOUT_S)
    finally:
        await feed.close()
    return await sweep(model, blob_store_of(settings), wall_clock_ms())


if __name__ == "__main__":
    print(json.dumps(asdict(asyncio.run(run(Settings())))))
