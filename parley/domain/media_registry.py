"""The media registry: recent uploads and the messages that carry them, folded from the log.

It keeps only what a time window needs (DESIGN decision 11): the uploads of the last
`window_ms` (FoldWindows.media_ms), so an uploader can send one through any process the moment
the upload returned, before the projector has archived it, and the media messages and recalls
of about as long. Everything older is in the media archive (parley.ports.MediaArchive): a
caller reads from there what the registry does not hold and passes it in as an ArchivedMedia,
which `get` merges with what the registry holds. The window ends at the newest server time
folded, never at a clock's now, so the registry is a function of the events alone.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Generic, TypeVar

from parley.domain.events import Event, MediaContent, MediaUploaded, MessageRecalled, MessageSent
from parley.domain.fold_windows import MEDIA_WINDOW_MS
from parley.domain.log_streams import is_stored
from parley.domain.media_objects import (
    NOTHING_ARCHIVED,
    ArchivedMedia,
    Attachment,
    StoredMedia,
    media_from_document,
    media_to_document,
    object_ids_of,
)

# Ingress clocks differ a little: a message may carry a server time a little before its
# upload's, a recall one a little before its message's. Each is kept this much longer than what
# it follows, so that while an upload is kept, so are its messages and their recalls (`holds`).
CLOCK_SKEW_MS = 60 * 1000

T = TypeVar("T")


@dataclass(frozen=True)
class _Upload:
    owner: str
    content: MediaContent
    at_ms: int  # server time of the upload

    @property
    def rank(self) -> tuple[int, str]:
        return (self.at_ms, self.owner)


@dataclass(frozen=True)
class _Carrier:
    """A stored message carrying uploaded objects."""

    conversation_key: str
    at_ms: int  # server time of the send
    object_ids: tuple[str, ...]

    @property
    def rank(self) -> tuple[int, tuple[str, ...], str]:
        return (self.at_ms, self.object_ids, self.conversation_key)


@dataclass(frozen=True)
class _Recall:
    conversation_key: str
    at_ms: int  # server time of the recall

    @property
    def rank(self) -> tuple[int, str]:
        return (self.at_ms, self.conversation_key)


class _Kept(Generic[T]):
    """Items by key, each kept while its server time is within `keep_ms` of the newest.

    Of two items under one key (a retried append, say), the later one wins, whatever order
    they arrive in; with each item kept for its own time, what is kept is then a function of
    the items and the newest time only, not of the order they came in."""

    def __init__(self, keep_ms: int, rank: Callable[[T], Any], at_ms: Callable[[T], int]) -> None:
        self.items: dict[str, T] = {}
        self._keep_ms = keep_ms
        self._rank = rank
        self._at_ms = at_ms
        self._expiring: list[tuple[int, str]] = []  # heap of (last ms kept, key)

    def offer(self, key: str, item: T, newest_ms: int) -> bool:
        """Keeps `item` unless it is behind the window or a later one holds the key."""
        last_ms = self._at_ms(item) + self._keep_ms
        present = self.items.get(key)
        if last_ms < newest_ms or (present is not None and self._rank(present) >= self._rank(item)):
            return False
        self.items[key] = item
        heapq.heappush(self._expiring, (last_ms, key))
        return True

    def expire(self, newest_ms: int) -> list[tuple[str, T]]:
        """Drops the items behind the window; returns them."""
        dropped = []
        while self._expiring and self._expiring[0][0] < newest_ms:
            last_ms, key = heapq.heappop(self._expiring)
            item = self.items.get(key)
            if item is not None and self._at_ms(item) + self._keep_ms == last_ms:
                dropped.append((key, self.items.pop(key)))
        return dropped


class MediaRegistry:
    """Uploads by object id, media messages and recalls by message id, within the window.

    Applying is idempotent, and a recall is never undone: whether a message was recalled is
    whether a recall of it is kept, and recalls are kept longer than messages. What it holds
    does not depend on how partitions interleave (see _Kept): an upload (on its uploader's
    stream) and a message carrying it (on the conversation's) may arrive in either order, and
    an item that arrives already behind the window is never added.
    """

    def __init__(self, window_ms: int = MEDIA_WINDOW_MS) -> None:
        self.window_ms = window_ms
        self._clear()

    def _clear(self) -> None:
        window = self.window_ms
        self._newest_ms = 0
        self._uploads = _Kept[_Upload](window, _rank, _at_ms)
        self._carriers = _Kept[_Carrier](window + CLOCK_SKEW_MS, _rank, _at_ms)
        self._recalls = _Kept[_Recall](window + 2 * CLOCK_SKEW_MS, _rank, _at_ms)
        self._carried_by: dict[str, dict[str, None]] = {}  # object id -> message ids, in order

    def __len__(self) -> int:
        return len(self._uploads.items)

    @property
    def newest_ms(self) -> int:
        """The newest server time folded: the window ends there."""
        return self._newest_ms

    def to_document(self) -> dict[str, Any]:
        """Uploads, media messages and recalls as plain JSON values, sorted (uploads by time
        and id, the rest by message id): the same bytes whatever the interleaving of
        partitions they were folded in."""
        uploads = sorted(self._uploads.items.items(), key=lambda kv: (kv[1].at_ms, kv[0]))
        return {
            "newest_ms": self._newest_ms,
            "uploads": [[oid, u.owner, media_to_document(u.content), u.at_ms]
                        for oid, u in uploads],
            "messages": [[mid, c.conversation_key, c.at_ms, list(c.object_ids)]
                         for mid, c in sorted(self._carriers.items.items())],
            "recalls": [[mid, r.conversation_key, r.at_ms]
                        for mid, r in sorted(self._recalls.items.items())],
        }  # fmt: skip

    def restore(self, document: dict[str, Any]) -> None:
        """Replaces the registry with a to_document value (kept within this window)."""
        self._clear()
        newest = self._newest_ms = document["newest_ms"]
        for object_id, owner, content, at_ms in document["uploads"]:
            self._uploads.offer(
                object_id, _Upload(owner, media_from_document(content), at_ms), newest
            )
        for message_id, key, at_ms, object_ids in document["messages"]:
            self._add_carrier(message_id, _Carrier(key, at_ms, tuple(object_ids)))
        for message_id, key, at_ms in document["recalls"]:
            self._recalls.offer(message_id, _Recall(key, at_ms), newest)

    # --- folding ------------------------------------------------------------------------------

    def apply(self, event: Event) -> None:
        if event.server_time_ms > self._newest_ms:
            self._newest_ms = event.server_time_ms
            self._uploads.expire(self._newest_ms)
            for message_id, carrier in self._carriers.expire(self._newest_ms):
                self._unindex(message_id, carrier)
            self._recalls.expire(self._newest_ms)
        payload, at_ms = event.payload, event.server_time_ms
        if isinstance(payload, MediaUploaded):
            object_id = payload.content.media.object_id
            if object_id:
                upload = _Upload(event.actor, payload.content, at_ms)
                self._uploads.offer(object_id, upload, self._newest_ms)
        elif isinstance(payload, MessageSent) and is_stored(event):
            carried = object_ids_of(payload.content)
            if carried:
                self._add_carrier(
                    payload.message_id, _Carrier(event.conversation_key, at_ms, carried)
                )
        elif isinstance(payload, MessageRecalled):
            recall = _Recall(event.conversation_key, at_ms)
            self._recalls.offer(payload.message_id, recall, self._newest_ms)

    def _add_carrier(self, message_id: str, carrier: _Carrier) -> None:
        replaced = self._carriers.items.get(message_id)
        if not self._carriers.offer(message_id, carrier, self._newest_ms):
            return
        if replaced is not None:
            self._unindex(message_id, replaced)
        for object_id in carrier.object_ids:
            self._carried_by.setdefault(object_id, {})[message_id] = None

    def _unindex(self, message_id: str, carrier: _Carrier) -> None:
        for object_id in carrier.object_ids:
            carriers = self._carried_by.get(object_id, {})
            carriers.pop(message_id, None)
            if not carriers:
                self._carried_by.pop(object_id, None)

    def forget(self, object_id: str) -> None:
        """Drops an object whose bytes were deleted (a cleanup job's local view)."""
        self._uploads.items.pop(object_id, None)
        for message_id in self._carried_by.pop(object_id, {}):
            carrier = self._carriers.items[message_id]
            rest = tuple(o for o in carrier.object_ids if o != object_id)
            if rest:
                self._carriers.items[message_id] = replace(carrier, object_ids=rest)
            else:
                del self._carriers.items[message_id]

    # --- views --------------------------------------------------------------------------------

    def holds(self, object_id: str) -> bool:
        """Whether `get` answers for this object without the archive: its upload is in the
        window, and so is every message that carried it, and their recalls (they came after)."""
        return object_id in self._uploads.items

    def holds_message(self, message_id: str) -> bool:
        return message_id in self._carriers.items

    def get(self, object_id: str, archived: ArchivedMedia = NOTHING_ARCHIVED) -> StoredMedia | None:
        """The object and every message that carried it: from the registry when it `holds`
        it, else the archived object plus the newer messages and recalls the registry holds
        (the archive lags the log by the projector's lag)."""
        upload = self._uploads.items.get(object_id)
        if upload is not None:
            stored = StoredMedia(object_id, upload.owner, upload.content, upload.at_ms)
        else:
            old = archived.objects.get(object_id)
            if old is None:
                return None
            stored = replace(old, attachments=dict(old.attachments))
        for message_id in self._carried_by.get(object_id, ()):
            carrier = self._carriers.items[message_id]
            earlier = stored.attachments.get(message_id)
            recalled = earlier is not None and earlier.recalled
            stored.attachments[message_id] = Attachment(
                message_id, carrier.conversation_key, recalled
            )
        for message_id, attachment in stored.attachments.items():
            recall = self._recalls.items.get(message_id)
            if recall is not None and recall.conversation_key == attachment.conversation_key:
                stored.attachments[message_id] = replace(attachment, recalled=True)
        return stored

    def objects_of(
        self, message_id: str, archived: ArchivedMedia = NOTHING_ARCHIVED
    ) -> tuple[str, ...]:
        """The objects a message carried (none for an unknown message)."""
        carrier = self._carriers.items.get(message_id)
        if carrier is not None:
            return carrier.object_ids
        return archived.messages.get(message_id, ())

    def objects_in(self, conversation_key: str) -> list[str]:
        """The objects the registry knows a conversation's messages carried (a scan: for the
        rare cleanup of a dismissed room)."""
        carriers = self._carriers.items.values()
        found = (c.object_ids for c in carriers if c.conversation_key == conversation_key)
        return list(dict.fromkeys(o for ids in found for o in ids))

    def object_ids(self, archived: ArchivedMedia = NOTHING_ARCHIVED) -> list[str]:
        """Every object `get` can describe: uploads in the window and archived objects."""
        return list(dict.fromkeys([*self._uploads.items, *archived.objects]))


def _rank(item: _Upload | _Carrier | _Recall) -> Any:
    return item.rank


def _at_ms(item: _Upload | _Carrier | _Recall) -> int:
    return item.at_ms
