"""Messages older than the index's window: the projection archives them, MessageLookup reads
them back for the pure rules only on a miss, SendFlow answers a send's status from them past
the ledger's, and a delivery node acks them (in-memory archive over the projection's rows)."""

from __future__ import annotations

import itertools
from collections.abc import Collection

import pytest

from parley.adapters.memory import InMemoryEventFeed, InMemoryEventLog
from parley.adapters.memory_media_archive import InMemoryMediaArchive
from parley.adapters.memory_message_archive import InMemoryMessageArchive
from parley.domain.commands import SendCommand, Stamp
from parley.domain.conversations import ConversationType
from parley.domain.errors import Reason, Rejected
from parley.domain.events import (
    CombineContent,
    Event,
    ForwardedMessage,
    Logged,
    MessageDelivered,
    MessageSent,
    Position,
    TextContent,
)
from parley.domain.fold_windows import FoldWindows
from parley.domain.groups import GroupChange, decide_create_group
from parley.domain.limits import Limits
from parley.domain.log_streams import Stream
from parley.domain.message_archive import ArchivedMessage
from parley.domain.message_ids import message_id_for
from parley.domain.moderation import InterceptorChain
from parley.domain.projection_fold import fold
from parley.domain.projection_state import ConversationState
from parley.domain.rate_limit import RateLimiter
from parley.domain.sending import SendDecider
from parley.domain.write_model import WriteModel
from parley.media_lookup import MediaLookup
from parley.message_lookup import MessageLookup, forwarded_ids
from services.delivery.acks import DeliveredAcks
from services.writes.sends import SendFlow
from services.writes.writer import EventWriter

WINDOWS = FoldWindows(recall_ms=1_000, idempotency_ms=2_000)
LIMITS = Limits()
PEER, GROUP = ConversationType.PEER, ConversationType.GROUP


class World:
    """A write model with narrow windows, and the archive the projector fills from the same log."""

    def __init__(self) -> None:
        self.model = WriteModel(windows=WINDOWS)
        self.archive = InMemoryMessageArchive()
        self.lookup = MessageLookup(self.archive, self.model)
        self._states: dict[str, ConversationState] = {}
        self._offsets = itertools.count()
        self.decider = SendDecider(self.model, LIMITS, RateLimiter(1000), InterceptorChain())
        by_owner = GroupChange("owner", "team", self.model, Stamp(0, "g"))
        self.log(decide_create_group(by_owner, "T", ["alice", "bob"], LIMITS))

    def log(self, event: Event) -> Position:
        position = Position(0, next(self._offsets))
        self.model.apply_event(event, position.offset)
        batch = fold(self._states, [Logged(event, position)])
        self.archive.read_models.apply(batch.writes.values())
        return position

    def send(self, sender: str, cmid: str, at_ms: int, kind: ConversationType = GROUP) -> str:
        target = "team" if kind is GROUP else "bob"
        command = SendCommand(sender, kind, target, cmid, TextContent(f"text of {cmid}"))
        event = self.decider.prepare(command, Stamp(at_ms, f"e-{cmid}"))
        assert isinstance(event, Event)
        self.decider.record(event, self.log(event))
        return message_id_for(sender, cmid)


def past_the_window() -> tuple[World, str, str]:
    """(world, old, recent): alice's message "c-old", pushed out of the index's window by her
    "c-recent" nine seconds later."""
    world = World()
    old = world.send("alice", "c-old", at_ms=1_000)
    recent = world.send("alice", "c-recent", at_ms=10_000)
    return world, old, recent


async def test_message_lookup__reads_the_archive_only_for_what_the_index_no_longer_holds() -> None:
    world, old, recent = past_the_window()
    assert world.model.messages.get(old) is None
    found = await world.lookup.missing([recent, old, "m_unknown"], "ack")
    assert set(found) == {old}
    assert (found[old].sender_id, found[old].conversation_key) == ("alice", "g:team")
    assert world.archive.reads == 2  # old and the unknown one; never the one in the window
    assert (await world.lookup.missing([recent], "ack")) == {}
    assert world.archive.reads == 2


async def test_message_lookup__an_archive_that_does_not_answer_is_read_models_unavailable() -> None:
    world, old, _ = past_the_window()
    world.archive.unavailable = True
    with pytest.raises(Rejected) as caught:
        await world.lookup.missing([old], "recall")
    assert caught.value.reason is Reason.READ_MODELS_UNAVAILABLE


async def test_message_lookup__a_retry_asks_for_its_own_id_only_when_the_ledger_forgot_it() -> None:
    world = World()
    world.send("alice", "c-1", at_ms=1_000)
    retry = SendCommand("alice", GROUP, "team", "c-1", TextContent("text of c-1"), retry=True)
    assert (await world.lookup.for_send(retry)) == {}  # the ledger answers it
    assert world.archive.reads == 0
    world.send("alice", "c-2", at_ms=10_000)  # c-1 leaves the ledger's window
    found = await world.lookup.for_send(retry)
    assert set(found) == {message_id_for("alice", "c-1")}
    # A send not marked as a retry never costs a read, whether fresh or a late repeat.
    fresh = SendCommand("alice", GROUP, "team", "c-3", TextContent("new"))
    unmarked = SendCommand("alice", GROUP, "team", "c-1", TextContent("text of c-1"))
    assert (await world.lookup.for_send(fresh)) == {}
    assert (await world.lookup.for_send(unmarked)) == {}
    assert world.archive.reads == 1


async def test_message_lookup__without_the_archive_a_fresh_send_goes_on_a_forward_not() -> None:
    world, old, _ = past_the_window()
    world.archive.unavailable = True
    fresh = SendCommand("alice", GROUP, "team", "c-new", TextContent("new"))
    assert (await world.lookup.for_send(fresh)) == {}
    quoted = ForwardedMessage(old, "alice", TextContent("text of c-old"))
    forward = SendCommand("bob", GROUP, "team", "c-fw", CombineContent("fw", (quoted,)))
    with pytest.raises(Rejected) as caught:
        await world.lookup.for_send(forward)
    assert caught.value.reason is Reason.READ_MODELS_UNAVAILABLE


async def test_message_lookup__send_status_answers_only_the_sender_s_own_message() -> None:
    world = World()
    old = world.send("alice", "c-old", at_ms=1_000)
    world.send("alice", "c-recent", at_ms=10_000)
    found = await world.lookup.send_status("alice", "c-old")
    assert found is not None and found.message_id == old and found.receipt.duplicate
    assert (await world.lookup.send_status("alice", "c-never")) is None


async def test_send_flow__status_asks_the_ledger_then_the_archive_for_own_sends_only() -> None:
    world, old, recent = past_the_window()
    log = InMemoryEventLog()
    writer = EventWriter(log, InMemoryEventFeed(log, world.model))
    media = MediaLookup(InMemoryMediaArchive(), world.model.media)
    sends = SendFlow(world.decider, writer, media, world.model.sends, world.lookup)
    # Within the idempotency window the ledger answers: the archive is not asked, even down.
    world.archive.unavailable = True
    answer = await sends.status("alice", "c-recent")
    assert answer is not None and answer.message_id == recent
    with pytest.raises(Rejected) as caught:
        await sends.status("alice", "c-old")
    assert caught.value.reason is Reason.READ_MODELS_UNAVAILABLE
    # Past the window, the archive answers with the receipt the send was given.
    world.archive.unavailable = False
    answer = await sends.status("alice", "c-old")
    assert answer is not None and (answer.message_id, answer.conversation_key) == (old, "g:team")
    # Only the caller's own sends: the same client message ids are unknown for bob.
    assert await sends.status("bob", "c-recent") is None
    assert await sends.status("bob", "c-old") is None


def test_forwarded_ids__nested_merged_forwards_are_all_named() -> None:
    inner = CombineContent("in", (ForwardedMessage("m_b", "bob", TextContent("b")),))
    outer = CombineContent("out", (ForwardedMessage("m_a", "alice", inner),))
    assert forwarded_ids(outer) == ["m_a", "m_b"]


async def test_delivered_acks__a_resumed_client_acks_a_message_older_than_the_window() -> None:
    world = World()
    old = world.send("alice", "c-old", at_ms=1_000, kind=PEER)
    world.send("alice", "c-recent", at_ms=10_000, kind=PEER)
    assert world.model.messages.get(old) is None
    log = InMemoryEventLog()
    acks = DeliveredAcks(world.model, log, world.archive)
    acks.add("bob", "p:alice:bob", old)
    await acks.flush()
    assert [r.event.payload for r in log.records(Stream.CONVERSATION_EVENTS.value)] == [
        MessageDelivered(old)
    ]


async def test_delivered_acks__the_newest_ack_per_user_and_conversation_is_logged() -> None:
    world = World()
    first = world.send("alice", "c1", at_ms=1_000, kind=PEER)
    second = world.send("alice", "c2", at_ms=1_001, kind=PEER)
    log = InMemoryEventLog()
    acks = DeliveredAcks(world.model, log, world.archive)
    acks.add("bob", "p:alice:bob", first)
    acks.add("bob", "p:alice:bob", second)
    await acks.flush()
    assert [r.event.payload for r in log.records(Stream.CONVERSATION_EVENTS.value)] == [
        MessageDelivered(second)
    ]


class CountingArchive(InMemoryMessageArchive):
    def __init__(self) -> None:
        super().__init__()
        self.asked: list[str] = []

    async def get_many(self, message_ids: Collection[str]) -> dict[str, ArchivedMessage]:
        self.asked += message_ids
        return await super().get_many(message_ids)


@pytest.mark.parametrize("key", ["r:lobby", "u:bob"], ids=["room", "not-a-conversation"])
async def test_delivered_acks__a_room_s_ack_is_dropped_without_a_lookup(key: str) -> None:
    """Rooms keep no receipts: their acks log nothing and never reach the archive."""
    archive, log = CountingArchive(), InMemoryEventLog()
    acks = DeliveredAcks(World().model, log, archive)
    acks.add("bob", key, "m_unknown")
    await acks.flush()
    assert log.records(Stream.CONVERSATION_EVENTS.value) == [] and archive.asked == []


async def test_message_lookup__a_forward_of_an_old_message_is_checked_against_the_archive() -> None:
    world = World()
    old = world.send("alice", "c-old", at_ms=1_000)
    world.send("alice", "c-recent", at_ms=10_000)
    assert world.model.messages.get(old) is None

    async def forward(body: str, sender: str = "alice", cmid: str = "c-fw") -> Event | object:
        quoted = ForwardedMessage(old, sender, TextContent(body))
        command = SendCommand("bob", PEER, "carol", cmid, CombineContent("fw", (quoted,)))
        found = await world.lookup.for_send(command)
        return world.decider.prepare(command, Stamp(11_000, "f"), archived_messages=found)

    sent = await forward("text of c-old")
    assert isinstance(sent, Event) and isinstance(sent.payload, MessageSent)
    assert isinstance(sent.payload.content, CombineContent)
    assert sent.payload.content.messages[0].sent_at_ms == 1_000  # filled from the archive
    for body, sender, expected in (
        ("a misquote", "alice", Reason.BAD_PARAMETER),
        ("text of c-old", "bob", Reason.BAD_PARAMETER),
    ):
        with pytest.raises(Rejected) as caught:
            await forward(body, sender, cmid=f"c-{body}-{sender}")
        assert caught.value.reason is expected
