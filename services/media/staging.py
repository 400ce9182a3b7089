"""Uploads straight to the store: a presigned PUT into staging, then validation on completion."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

from parley.domain.commands import Stamp
from parley.domain.errors import Reason, Rejected
from parley.domain.events import MediaContent, MessageType
from parley.domain.media_content import check_size
from parley.domain.media_uploads import check_media_type, check_upload_id, upload_id_from
from parley.ports import BlobStoreUnavailable
from services.media.uploads import MediaDeps, accept_upload, delete_quietly, unavailable

STAGING_PREFIX = "staging/"
# A failed completion keeps the staged file only when retrying it can succeed.
_RETRYABLE = frozenset(
    {Reason.MEDIA_STORE_UNAVAILABLE, Reason.EVENT_LOG_UNAVAILABLE, Reason.MEDIA_SERVER_BUSY}
)


def staging_key(owner: str, upload_id: str) -> str:
    """Staged bytes live under their uploader, so nobody completes someone else's upload."""
    return f"{STAGING_PREFIX}{owner}/{upload_id}"


async def create_upload_url(
    deps: MediaDeps, owner: str, kind: MessageType, file_name: str, size: int, now_ms: int
) -> tuple[str, str, int]:
    """(upload id, presigned PUT URL, expiry in ms since the epoch); refuses an oversize file
    before anything is stored."""
    check_media_type(kind)
    check_size(kind, size, deps.ingress.limits)
    upload_id = upload_id_from(secrets.token_bytes(12))
    key = staging_key(owner, upload_id)
    expires_at_ms = now_ms + deps.upload_url_ttl_s * 1000
    manifest = {"kind": int(kind), "file_name": file_name, "expires_at_ms": expires_at_ms}
    try:
        await deps.store.put_bytes(key + ".json", json.dumps(manifest).encode(), "application/json")
        url = await deps.store.presign_put(key, deps.upload_url_ttl_s)
    except BlobStoreUnavailable as error:
        raise unavailable(error) from error
    return upload_id, url, expires_at_ms


async def complete_upload(
    deps: MediaDeps, owner: str, upload_id: str, directory: str, stamp: Stamp
) -> MediaContent:
    """Validates the staged file like a streamed upload; the staged copy is removed afterwards
    (accepted files live on under their object id, rejected ones nowhere)."""
    check_upload_id(upload_id)
    key = staging_key(owner, upload_id)
    try:
        manifest = json.loads(b"".join([c async for c in deps.store.get(key + ".json")]))
        staged = await deps.store.stat(key)
    except KeyError:
        raise Rejected(Reason.MEDIA_NOT_FOUND, f"no upload {upload_id!r}") from None
    except BlobStoreUnavailable as error:
        raise unavailable(error) from error
    if staged is None:
        raise Rejected(Reason.MEDIA_NOT_FOUND, "nothing was uploaded to the URL (yet)")
    kind = MessageType(manifest["kind"])
    try:
        check_size(kind, staged.size, deps.ingress.limits)
        path = str(Path(directory) / "staged")
        with deps.staging.claim() as claim:
            claim.grow_to(staged.size)
            await deps.store.download_to(key, path)  # a full staging space: MEDIA_SERVER_BUSY
            content = await accept_upload(deps, owner, kind, manifest["file_name"], path, stamp)
    except BlobStoreUnavailable as error:
        raise unavailable(error) from error
    except Rejected as rejected:
        if rejected.reason not in _RETRYABLE:
            await delete_quietly(deps.store, [key, key + ".json"])
        raise
    await delete_quietly(deps.store, [key, key + ".json"])
    return content
