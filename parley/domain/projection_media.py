"""The media archive's part of the projection: uploads, the messages carrying them, recalls."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from parley.domain.events import Logged, MediaUploaded, MessageRecalled, MessageSent
from parley.domain.media_objects import object_ids_of
from parley.domain.read_models import (
    HistoryRecalled,
    MediaAttachmentRecalled,
    MediaAttachmentRow,
    MediaUploadRow,
    MessageByIdRow,
    RowWrite,
)


class MediaRows:
    """The media rows of one batch of the projection.

    An upload sits on its uploader's stream ("u:<id>"), which has no conversation state: its
    row is a function of the event alone, so writing it again changes nothing. A message's
    rows go with the message's own rows (its seq row, its history recall), so the
    conversation's position guard and duplicate check cover them too. A recall names only the
    message: `carried` gives the objects of messages stored before the batch (the projector
    looks them up in media_objects_by_message), and the batch adds those it stores itself.
    """

    def __init__(self, carried: Mapping[str, tuple[str, ...]]) -> None:
        self._carried = dict(carried)

    def of_upload(self, logged: Logged) -> list[RowWrite]:
        event = logged.event
        payload = event.payload
        if not isinstance(payload, MediaUploaded) or not payload.content.media.object_id:
            return []
        return [
            MediaUploadRow(
                payload.content.media.object_id,
                event.actor,
                payload.content,
                event.server_time_ms,
                logged.position.offset,
            )
        ]

    def of_message(self, logged: Logged, projected: Sequence[RowWrite]) -> list[RowWrite]:
        """The media rows of a conversation event, given the rows the reducer wrote for it."""
        event, offset = logged.event, logged.position.offset
        payload = event.payload
        if isinstance(payload, MessageSent):
            object_ids = object_ids_of(payload.content)
            if not object_ids or not _stores(projected, payload.message_id):
                return []
            self._carried[payload.message_id] = object_ids
            return [
                MediaAttachmentRow(
                    object_id,
                    payload.message_id,
                    event.conversation_key,
                    event.server_time_ms,
                    offset,
                )
                for object_id in object_ids
            ]
        if isinstance(payload, MessageRecalled):
            object_ids = self._carried.get(payload.message_id, ())
            if not object_ids or not any(isinstance(w, HistoryRecalled) for w in projected):
                return []
            return [
                MediaAttachmentRecalled(object_id, payload.message_id, offset)
                for object_id in object_ids
            ]
        return []


def _stores(projected: Sequence[RowWrite], message_id: str) -> bool:
    return any(isinstance(w, MessageByIdRow) and w.message_id == message_id for w in projected)
