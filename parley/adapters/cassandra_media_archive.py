"""The media archive on Cassandra: the projector's media rows (to_row) and the reads of
MediaArchive (from_row), over the tables of infra/cassandra/0006_media_archive.cql."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from typing import Any

from cassandra.cluster import Session

from parley.adapters.cassandra import Statements, execute
from parley.adapters.wire import content_from_proto, content_to_proto
from parley.domain.events import MediaContent
from parley.domain.media_content import MEDIA_CONTENTS
from parley.domain.media_objects import Attachment, StoredMedia
from parley.domain.read_models import MediaAttachmentRecalled, MediaAttachmentRow, MediaUploadRow
from parley.gen.parley.v1 import common_pb2

PAGE_ROWS = 1000  # rows per read of a partition: under the driver's page size
MEDIA_ROWS = (MediaUploadRow, MediaAttachmentRow, MediaAttachmentRecalled)

_ATTACHMENT = (
    "INSERT INTO media_attachments_by_object (object_id, message_id, conversation_key, "
    "sent_at_ms, event_offset{}) VALUES (?, ?, ?, ?, ?{})"
)
# The projector's statements (CassandraProjectionStore prepares them with its own).
WRITES_CQL: dict[str, str] = {
    "media_upload": "INSERT INTO media_by_object (object_id, owner_id, body, uploaded_at_ms, "
    "event_offset) VALUES (?, ?, ?, ?, ?)",
    # A message's row leaves `recalled` alone: a redelivered send never un-recalls.
    "media_attachment": _ATTACHMENT.format("", ""),
    "media_attachment_recalled": _ATTACHMENT.format(", recalled", ", true"),
    "media_recall": "UPDATE media_attachments_by_object SET recalled = true, event_offset = ? "
    "WHERE object_id = ? AND message_id = ?",
    "media_by_message": "INSERT INTO media_objects_by_message (message_id, object_id, "
    "conversation_key, event_offset) VALUES (?, ?, ?, ?)",
    "media_by_room": "INSERT INTO media_objects_by_room (conversation_key, object_id, "
    "message_id, event_offset) VALUES (?, ?, ?, ?)",
    "media_carried": "SELECT object_id, conversation_key FROM media_objects_by_message "
    "WHERE message_id = ?",
}
_READS_CQL = {
    "object": "SELECT owner_id, body, uploaded_at_ms FROM media_by_object WHERE object_id = ?",
    "attachments": "SELECT message_id, conversation_key, recalled "
    "FROM media_attachments_by_object WHERE object_id = ? AND message_id > ? LIMIT ?",
    "of_message": "SELECT object_id FROM media_objects_by_message WHERE message_id = ?",
    "in_room": "SELECT object_id, message_id FROM media_objects_by_room "
    "WHERE conversation_key = ? AND (object_id, message_id) > (?, ?) LIMIT ?",
}
Bound = tuple[str, tuple[Any, ...], tuple[Any, ...]]


def body_of(content: MediaContent) -> bytes:
    return content_to_proto(content).SerializeToString(deterministic=True)


def media_from_body(body: bytes) -> MediaContent:
    message = common_pb2.MessageBody()
    message.ParseFromString(body)
    content = content_from_proto(message)
    if not isinstance(content, MEDIA_CONTENTS):
        raise ValueError(f"media_by_object holds a {type(content).__name__}")
    return content


def bind_media(w: MediaUploadRow | MediaAttachmentRow | MediaAttachmentRecalled) -> list[Bound]:
    """(statement name, values, Cassandra partition) for one media row write."""
    if isinstance(w, MediaUploadRow):
        upload = (w.object_id, w.owner_id, body_of(w.content), w.uploaded_at_ms, w.event_offset)
        return [("media_upload", upload, ("media_upload", w.object_id))]
    if isinstance(w, MediaAttachmentRecalled):
        recall = (w.event_offset, w.object_id, w.message_id)
        return [("media_recall", recall, ("media_attachment", w.object_id))]
    name = "media_attachment_recalled" if w.recalled else "media_attachment"
    # With a recall folded in, the row's offset is the later of the two writes'.
    offset = max(w.event_offset, w.recall_offset)
    bound: list[Bound] = [
        (name, (w.object_id, w.message_id, w.conversation_key, w.sent_at_ms, offset),
         ("media_attachment", w.object_id)),
        ("media_by_message", (w.message_id, w.object_id, w.conversation_key, w.event_offset),
         ("media_by_message", w.message_id)),
    ]  # fmt: skip
    if w.conversation_key.startswith("r:"):
        room = (w.conversation_key, w.object_id, w.message_id, w.event_offset)
        bound.append(("media_by_room", room, ("media_by_room", w.conversation_key)))
    return bound


async def lookup_carried(
    session: Session, prepared: Any, wanted: Iterable[tuple[str, str]]
) -> dict[str, tuple[str, ...]]:
    """message id -> the objects it carried, for (conversation key, message id) pairs; messages
    that carried none, or were stored in another conversation, are left out."""
    found: dict[str, tuple[str, ...]] = {}

    async def look(key: str, message_id: str) -> None:
        rows = await execute(session, prepared, (message_id,))
        object_ids = tuple(r.object_id for r in rows if r.conversation_key == key)
        if object_ids:
            found[message_id] = object_ids

    gate = asyncio.Semaphore(64)

    async def bounded(key: str, message_id: str) -> None:
        async with gate:
            await look(key, message_id)

    await asyncio.gather(*(bounded(key, mid) for key, mid in wanted))
    return found


class CassandraMediaArchive:
    """MediaArchive over the projector's media tables; partitions are read in pages."""

    def __init__(self, session: Session) -> None:
        self._cql = Statements(session, _READS_CQL)

    async def media(self, object_ids: Sequence[str]) -> dict[str, StoredMedia]:
        found = await asyncio.gather(*(self._one(oid) for oid in dict.fromkeys(object_ids)))
        return {stored.object_id: stored for stored in found if stored is not None}

    async def _one(self, object_id: str) -> StoredMedia | None:
        rows = await self._cql.rows("object", object_id)
        if not rows or rows[0].body is None:
            return None
        row = rows[0]
        stored = StoredMedia(object_id, row.owner_id, media_from_body(row.body), row.uploaded_at_ms)
        after = ""
        while True:
            page = await self._cql.rows("attachments", object_id, after, PAGE_ROWS)
            for r in page:
                stored.attachments[r.message_id] = Attachment(
                    r.message_id, r.conversation_key, bool(r.recalled)
                )
            if len(page) < PAGE_ROWS:
                return stored
            after = page[-1].message_id

    async def objects_of(self, message_id: str) -> tuple[str, ...]:
        return tuple(r.object_id for r in await self._cql.rows("of_message", message_id))

    async def objects_in_room(self, conversation_key: str) -> list[str]:
        found: dict[str, None] = {}
        after = ("", "")
        while True:
            page = await self._cql.rows("in_room", conversation_key, *after, PAGE_ROWS)
            found.update(dict.fromkeys(r.object_id for r in page))
            if len(page) < PAGE_ROWS:
                return list(found)
            after = (page[-1].object_id, page[-1].message_id)
