"""An in-memory MediaArchive over InMemoryReadModels' media rows, for unit tests (the contract
suite runs it beside Cassandra's)."""

from __future__ import annotations

from collections.abc import Sequence

from parley.adapters.memory_projection_store import InMemoryReadModels
from parley.domain.media_objects import Attachment, StoredMedia
from parley.domain.read_models import MediaAttachmentRow, MediaUploadRow


class InMemoryMediaArchive:
    """Reads what the projection's rows, applied to `models`, hold; scans, as tests need no
    more. Orders as Cassandra's clustering columns do."""

    def __init__(self, models: InMemoryReadModels | None = None) -> None:
        self.models = models if models is not None else InMemoryReadModels()

    def _attachments(self) -> list[MediaAttachmentRow]:
        keys = sorted(key for key in self.models.rows if key[0] == "media_attachment")
        rows = (self.models.rows[key] for key in keys)
        return [row for row in rows if isinstance(row, MediaAttachmentRow)]

    async def media(self, object_ids: Sequence[str]) -> dict[str, StoredMedia]:
        found: dict[str, StoredMedia] = {}
        attachments = self._attachments()
        for object_id in object_ids:
            upload = self.models.rows.get(("media_upload", object_id))
            if not isinstance(upload, MediaUploadRow):
                continue
            stored = StoredMedia(object_id, upload.owner_id, upload.content, upload.uploaded_at_ms)
            for row in attachments:
                if row.object_id == object_id:
                    stored.attachments[row.message_id] = Attachment(
                        row.message_id, row.conversation_key, row.recalled
                    )
            found[object_id] = stored
        return found

    async def objects_of(self, message_id: str) -> tuple[str, ...]:
        return tuple(row.object_id for row in self._attachments() if row.message_id == message_id)

    async def objects_in_room(self, conversation_key: str) -> list[str]:
        if not conversation_key.startswith("r:"):
            return []
        rows = self._attachments()
        return list(
            dict.fromkeys(r.object_id for r in rows if r.conversation_key == conversation_key)
        )
