"""Media older than the registry's window: the projection archives it, MediaLookup reads it back
for the pure rules, which keep their reason codes (in-memory archive over the projection's rows).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

import pytest

from parley.adapters.memory_media_archive import InMemoryMediaArchive
from parley.adapters.memory_projection_store import InMemoryReadModels
from parley.domain.commands import SendCommand, Stamp
from parley.domain.conversations import Conversation, ConversationType
from parley.domain.errors import Reason, Rejected
from parley.domain.events import (
    Event,
    ImageContent,
    Logged,
    MediaRef,
    MessageRecalled,
    MessageSent,
    Picture,
    Position,
)
from parley.domain.fold_windows import FoldWindows
from parley.domain.groups import GroupChange, decide_create_group
from parley.domain.limits import Limits
from parley.domain.media_access import Rendition, check_download
from parley.domain.media_objects import StoredMedia
from parley.domain.media_registry import CLOCK_SKEW_MS
from parley.domain.media_uploads import decide_media_uploaded, object_id_from
from parley.domain.moderation import build_interceptor_chain
from parley.domain.projection_fold import fold
from parley.domain.projection_state import ConversationState
from parley.domain.rate_limit import RateLimiter
from parley.domain.sending import SendDecider
from parley.domain.write_model import WriteModel
from parley.media_lookup import MediaLookup

LIMITS = Limits()
WINDOW_MS = 60_000
T0 = 1_700_000_000_000
GROUP = ConversationType.GROUP
PHOTO = object_id_from(b"photo".ljust(16, b"."))
STORED = ImageContent(
    MediaRef(object_id=PHOTO, file_name="cat.png", size_bytes=5000, mime_type="image/png"),
    800, 600, Picture(240, 180, 900), Picture(800, 600, 4000),
)  # fmt: skip


class CountingArchive(InMemoryMediaArchive):
    """Counts the reads, to show what the registry spares."""

    def __init__(self, models: InMemoryReadModels) -> None:
        super().__init__(models)
        self.reads = 0

    async def media(self, object_ids: Sequence[str]) -> dict[str, StoredMedia]:
        self.reads += 1
        return await super().media(object_ids)

    async def objects_of(self, message_id: str) -> tuple[str, ...]:
        self.reads += 1
        return await super().objects_of(message_id)


@dataclass
class Stage:
    """A write model with a one-minute media window, and the projection of the same log into
    in-memory read models (the projector running behind the log, caught up on `project`)."""

    model: WriteModel = field(
        default_factory=lambda: WriteModel(windows=FoldWindows(media_ms=WINDOW_MS))
    )
    models: InMemoryReadModels = field(default_factory=InMemoryReadModels)
    logged: list[Logged] = field(default_factory=list)
    states: dict[str, ConversationState] = field(default_factory=dict)
    projected: int = 0
    offsets: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def __post_init__(self) -> None:
        self.archive = CountingArchive(self.models)
        self.lookup = MediaLookup(self.archive, self.model.media)
        self.decider = SendDecider(
            self.model, LIMITS, RateLimiter(1000), build_interceptor_chain(None, [])
        )

    def apply(self, event: Event) -> None:
        self.logged.append(Logged(event, Position(0, next(self.offsets))))
        self.model.apply(self.logged[-1])

    def project(self) -> None:
        self.models.apply(fold(self.states, self.logged[self.projected :]).writes.values())
        self.projected = len(self.logged)

    async def send(self, sender: str, kind: ConversationType, target: str, at_ms: int) -> str:
        command = SendCommand(sender, kind, target, f"c{at_ms}", ImageContent(MediaRef(PHOTO)))
        archived = await self.lookup.archived([PHOTO])
        decision = self.decider.prepare(command, Stamp(at_ms, f"s{at_ms}"), archived=archived)
        assert isinstance(decision, Event) and isinstance(decision.payload, MessageSent)
        self.apply(decision)
        return decision.payload.message_id

    async def download(self, user: str, message_id: str = "", object_id: str = "") -> Reason | None:
        archived = await self.lookup.archived([object_id], [message_id])
        try:
            check_download(user, object_id, message_id, Rendition.THUMBNAIL, self.model, archived)
        except Rejected as rejected:
            return rejected.reason
        return None


async def old_group_photo() -> tuple[Stage, str]:
    """alice uploaded PHOTO and sent it to group "team" (alice, bob; carol outside); then the
    log moved on past the media window of both and the projector caught up."""
    stage = Stage()
    team = GroupChange("alice", "team", stage.model, Stamp(T0, "g"))
    stage.apply(decide_create_group(team, "T", ["bob"], LIMITS))
    stage.apply(decide_media_uploaded("alice", STORED, Stamp(T0 + 1, "up")))
    message_id = await stage.send("alice", GROUP, "team", T0 + 2)
    later = GroupChange(
        "dave", "later", stage.model, Stamp(T0 + 2 * WINDOW_MS + CLOCK_SKEW_MS, "g2")
    )
    stage.apply(decide_create_group(later, "L", [], LIMITS))
    stage.project()
    # out of memory: only the archive has them
    assert stage.model.media.get(PHOTO) is None
    assert not stage.model.media.holds_message(message_id)
    return stage, message_id


async def test_media_lookup__reads_nothing_while_the_registry_holds_the_media() -> None:
    stage = Stage()
    stage.apply(decide_media_uploaded("alice", STORED, Stamp(T0, "up")))
    await stage.send("alice", ConversationType.PEER, "bob", T0 + 1)
    assert await stage.download("bob", object_id=PHOTO) is None
    assert stage.archive.reads == 0


async def test_download__old_media_from_the_archive_for_readers_only() -> None:
    stage, message_id = await old_group_photo()
    assert await stage.download("bob", message_id=message_id) is None
    assert await stage.download("bob", object_id=PHOTO) is None
    assert await stage.download("alice", object_id=PHOTO) is None
    assert await stage.download("carol", message_id=message_id) is Reason.MEDIA_ACCESS_DENIED
    assert await stage.download("carol", object_id=PHOTO) is Reason.MEDIA_ACCESS_DENIED
    assert stage.archive.reads > 0


async def test_send__old_media_forwarded_one_by_one_by_a_reader_only() -> None:
    stage, _ = await old_group_photo()
    later = T0 + 3 * WINDOW_MS
    forwarded = await stage.send("bob", ConversationType.PEER, "carol", later)
    sent = stage.logged[-1].event.payload
    assert isinstance(sent, MessageSent) and sent.content == STORED
    # carol may use it now through bob's forward (in memory, not archived yet)
    assert await stage.download("carol", message_id=forwarded) is None
    with pytest.raises(Rejected) as caught:
        await stage.send("dave", ConversationType.PEER, "erin", later + 1)
    assert caught.value.reason is Reason.MEDIA_NOT_FOUND


@pytest.mark.parametrize("archived_recall", [False, True])
async def test_download__old_media_is_refused_after_a_recall(archived_recall: bool) -> None:
    stage, message_id = await old_group_photo()
    recall_at = T0 + 3 * WINDOW_MS
    conversation = Conversation(GROUP, "g:team")
    stage.apply(
        Stamp(recall_at, "r").event(conversation, "alice", MessageRecalled(message_id, "alice"))
    )
    if archived_recall:
        stage.project()  # else only the registry knows of the recall yet
    assert await stage.download("bob", message_id=message_id) is Reason.MEDIA_RECALLED
    assert await stage.download("bob", object_id=PHOTO) is Reason.MEDIA_RECALLED
    with pytest.raises(Rejected) as caught:
        await stage.send("bob", ConversationType.PEER, "carol", recall_at + 1)
    assert caught.value.reason is Reason.MEDIA_NOT_FOUND
