"""The upload use case: probe a local file, store it with its renditions, register it on the log."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from parley.domain.commands import Stamp
from parley.domain.errors import Reason, Rejected
from parley.domain.events import MediaContent, MediaRef, MessageType, Picture
from parley.domain.media_access import Rendition, object_key
from parley.domain.media_uploads import (
    check_upload,
    clean_file_name,
    decide_media_uploaded,
    media_content_of,
    object_id_from,
)
from parley.ports import BlobStore, BlobStoreUnavailable, MediaProbe, RenderedPicture
from services.media.scratch import StagingBudget
from services.writes.context import IngressContext

log = logging.getLogger(__name__)

RENDITION_TYPE = "image/jpeg"


@dataclass
class MediaDeps:
    """What the media services need: the ingress's write model and writer, a blob store, a
    probe, where to stage uploads while they are validated, and how many bytes may be staged."""

    ingress: IngressContext
    store: BlobStore
    probe: MediaProbe
    scratch_dir: str
    staging: StagingBudget
    upload_url_ttl_s: int = 900
    download_url_ttl_s: int = 300
    # Probing and rendering are CPU-bound: this many at once per process.
    probe_slots: asyncio.Semaphore | None = None

    def __post_init__(self) -> None:
        if self.probe_slots is None:
            self.probe_slots = asyncio.Semaphore(4)


def unavailable(error: BlobStoreUnavailable) -> Rejected:
    return Rejected(Reason.MEDIA_STORE_UNAVAILABLE, f"the media store failed: {error}")


async def delete_quietly(store: BlobStore, keys: Sequence[str]) -> None:
    """Best-effort removal on a failure path; the cleanup job sweeps what this misses."""
    try:
        await store.delete(keys)
    except BlobStoreUnavailable:
        log.warning("could not delete %s after a failed upload", list(keys))


async def accept_upload(
    deps: MediaDeps, owner: str, kind: MessageType, file_name: str, path: str, stamp: Stamp
) -> MediaContent:
    """Validates the file by content, stores original and renditions, appends MediaUploaded.

    Nothing is stored for a rejected file; when storing or appending fails, what was stored is
    deleted again, so a restarted upload leaves no garbage.
    """
    limits = deps.ingress.limits
    size = (await asyncio.to_thread(Path(path).stat)).st_size
    assert deps.probe_slots is not None
    async with deps.probe_slots:
        probed = await asyncio.to_thread(deps.probe.probe, path, kind)
        check_upload(kind, size, probed, limits)
        out_dir = str(Path(path).parent)
        try:
            rendered = await asyncio.to_thread(
                deps.probe.render, kind, path, out_dir,
                limits.thumbnail_max_edge, limits.large_max_edge,
            )  # fmt: skip
        except ValueError as error:
            raise Rejected(Reason.MEDIA_TYPE_UNSUPPORTED, str(error)) from error
    object_id = object_id_from(secrets.token_bytes(16))
    media = MediaRef(object_id, "", clean_file_name(file_name), size, probed.mime_type)
    pictures = {name: Picture(r.width, r.height, r.size_bytes) for name, r in rendered.items()}
    content = media_content_of(kind, media, probed, pictures)
    keys = await _store(deps.store, object_id, path, probed.mime_type, rendered)
    try:
        await deps.ingress.writer.write(decide_media_uploaded(owner, content, stamp), settle=True)
    except BaseException:
        await delete_quietly(deps.store, keys)
        raise
    return content


async def _store(
    store: BlobStore,
    object_id: str,
    path: str,
    mime_type: str,
    rendered: dict[str, RenderedPicture],
) -> list[str]:
    keys: list[str] = []
    try:
        for name, picture in rendered.items():
            keys.append(object_key(object_id, Rendition(name)))
            await store.put_file(keys[-1], picture.path, RENDITION_TYPE)
        # The original last: a message can only reach an object whose renditions exist.
        keys.append(object_key(object_id, Rendition.ORIGINAL))
        await store.put_file(keys[-1], path, mime_type)
    except BlobStoreUnavailable as error:
        await delete_quietly(store, keys)
        raise unavailable(error) from error
    except BaseException:
        with contextlib.suppress(BlobStoreUnavailable):
            await store.delete(keys)
        raise
    return keys
