"""Reading from the media archive what a media rule needs and the media registry does not hold.

The rules stay pure (parley.domain.media_access): a servicer first reads, through
MediaLookup, what the archive holds about the objects and messages a request names, then
passes it to the rule. Nothing is read when the registry holds everything named, as it does
for the media of its window.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import TypeVar

from parley.domain.errors import Reason, Rejected
from parley.domain.media_objects import NOTHING_ARCHIVED, ArchivedMedia
from parley.domain.media_registry import MediaRegistry
from parley.ports import MediaArchive

log = logging.getLogger(__name__)
T = TypeVar("T")


class MediaLookup:
    """A media archive beside the registry whose window it continues."""

    def __init__(self, archive: MediaArchive, registry: MediaRegistry) -> None:
        self.archive = archive
        self.registry = registry

    async def archived(
        self, object_ids: Iterable[str] = (), message_ids: Iterable[str] = ()
    ) -> ArchivedMedia:
        """What the archive holds about the named objects and messages (and the objects those
        messages carried) that the registry does not hold; Rejected READ_MODELS_UNAVAILABLE
        when it does not answer (the rule cannot be decided without it)."""
        try:
            return await self._read(object_ids, message_ids)
        except Exception as error:
            log.warning("media archive unavailable: %r", error)
            raise Rejected(
                Reason.READ_MODELS_UNAVAILABLE,
                "the read models did not answer about media older than the in-memory window",
            ) from error

    async def _read(self, object_ids: Iterable[str], message_ids: Iterable[str]) -> ArchivedMedia:
        registry = self.registry
        named_messages = [message_id for message_id in dict.fromkeys(message_ids) if message_id]
        messages = {
            message_id: await self.archive.objects_of(message_id)
            for message_id in named_messages
            if not registry.holds_message(message_id)
        }
        found = ArchivedMedia(messages=messages)
        carried = (oid for mid in named_messages for oid in registry.objects_of(mid, found))
        named = dict.fromkeys([*object_ids, *carried])
        missing = [object_id for object_id in named if object_id and not registry.holds(object_id)]
        if not missing and not messages:
            return NOTHING_ARCHIVED
        objects = await self.archive.media(missing) if missing else {}
        return ArchivedMedia(objects, messages)

    async def archived_in_rooms(self, room_keys: Sequence[str]) -> ArchivedMedia:
        """What the archive holds about every object the rooms' messages carried."""
        object_ids: list[str] = []
        for key in room_keys:
            object_ids += self.registry.objects_in(key)
            object_ids += await self.archive.objects_in_room(key)
        return await self.archived(object_ids)

    async def unless_unseen(
        self,
        catch_up: Callable[[], Awaitable[None]],
        decide: Callable[[ArchivedMedia], T],
        object_ids: Sequence[str] = (),
        message_ids: Sequence[str] = (),
    ) -> T:
        """`decide` on what the archive holds about the named media; refused with
        MEDIA_NOT_FOUND, once more after `catch_up` with the log (services.writes.sends
        says why), reading the archive again: what the log brought may name other objects."""
        try:
            return decide(await self.archived(object_ids, message_ids))
        except Rejected as rejected:
            if rejected.reason is not Reason.MEDIA_NOT_FOUND:
                raise
        await catch_up()
        return decide(await self.archived(object_ids, message_ids))
