"""The delivery fold: the projector's seqs, none of its per-message read-model bookkeeping, and
who is pushed each event."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from parley.domain.conversations import ConversationType
from parley.domain.delivery_fold import DeliveryFold
from parley.domain.events import (
    BarrageContent,
    CommandContent,
    Content,
    Event,
    MessageSent,
    RoomEntered,
    RoomLeft,
    TextContent,
)
from parley.domain.log_streams import is_droppable
from parley.domain.projection_fold import fold
from parley.domain.projection_state import ConversationState
from parley.domain.read_models import HistoryRow
from tests.unit.domain.projection_script import GROUP, PEER_AB, ROOM, START_MS, Script
from tests.unit.domain.test_projection_properties import build, op


@settings(max_examples=100, deadline=None)
@given(st.lists(op, max_size=80))
def test_delivery_fold__pushes_the_projector_s_seqs_and_keeps_no_unread_bookkeeping(
    ops: list[Any],
) -> None:
    script = build(ops)
    states: dict[str, ConversationState] = {}
    stored = fold(states, script.logged).writes.values()
    projected = {
        (r.conversation_key, r.message_id, r.seq) for r in stored if isinstance(r, HistoryRow)
    }
    delivery = DeliveryFold()
    pushed = set()
    for logged in script.logged:
        out, _ = delivery.apply(logged)
        pushed |= {
            (r.conversation_key, r.message_id, r.seq)
            for r in out.writes
            if isinstance(r, HistoryRow)
        }
    # Rooms' history is erased on dismissal in the read models; delivery pushed it before.
    assert {p for p in projected if not p[0].startswith("r:")} == {
        p for p in pushed if not p[0].startswith("r:")
    }
    for key, state in states.items():
        assert delivery.last_seq(key) == state.last_seq
    document = delivery.to_document()
    for state_document, _ in document["states"]:
        assert state_document["mentions"] == {} and state_document["receipts"] == []
        assert state_document["mention_all"] == []


def recipients(script: Script) -> list[set[str]]:
    """Who the fold says is pushed each event of the script, asked as each is folded."""
    fold = DeliveryFold()
    answers = []
    for logged in script.logged:
        _, before = fold.apply(logged)
        answers.append(set(fold.recipients_of(logged.event, before)))
    return answers


def signal(content: Content) -> Event:
    """A command or barrage message to the room, as the signals stream carries it."""
    return Event("c1", ROOM, ConversationType.ROOM, "erin", START_MS, MessageSent("c1", content))


def test_delivery_fold__a_message_and_its_recall_go_to_the_conversation_s_members() -> None:
    s = Script()
    s.create_group(GROUP, "carol", ("alice", "bob"))
    message_id = s.send(GROUP, "alice", "hi")
    s.recall(GROUP, "alice", message_id, "alice")
    s.send(PEER_AB, "alice", "hi bob")
    team = {"carol", "alice", "bob"}
    assert recipients(s) == [team, team, team, {"alice", "bob"}]


def test_delivery_fold__a_removed_member_gets_the_tip_of_the_removal_not_the_next_message() -> None:
    s = Script()
    s.create_group(GROUP, "carol", ("alice", "bob"))
    s.remove_members(GROUP, "carol", ("bob",))
    s.send(GROUP, "carol", "bye bob")
    s.add_members(GROUP, "carol", ("dave",))
    assert recipients(s)[1:] == [
        {"carol", "alice", "bob"},
        {"carol", "alice"},
        {"carol", "alice", "dave"},
    ]


def test_delivery_fold__a_room_s_events_go_to_those_inside_it_its_dismissal_included() -> None:
    s = Script()
    s.create_room(ROOM, "erin")
    s.add(ROOM, "alice", RoomEntered())
    s.send(ROOM, "erin", "anyone?")
    s.add(ROOM, "alice", RoomLeft())
    s.send(ROOM, "erin", "hello?")
    s.dismiss_room(ROOM, "erin")
    inside = {"erin", "alice"}
    assert recipients(s) == [{"erin"}, inside, inside, inside, {"erin"}, {"erin"}]


def test_delivery_fold__receipts_reads_and_deletes_are_pushed_to_no_one_by_the_fold() -> None:
    # The projector publishes what they change as user updates; the event itself is not pushed.
    s = Script()
    message_id = s.send(PEER_AB, "alice", "hi")
    s.delivered(PEER_AB, "bob", message_id)
    s.read_message(PEER_AB, "bob", message_id)
    s.read(PEER_AB, "bob", 1)
    s.delete(PEER_AB, "bob")
    assert recipients(s)[1:] == [set(), set(), set(), set()]


def test_delivery_fold__command_and_barrage_go_to_the_members_only_barrage_is_droppable() -> None:
    s = Script()
    s.create_room(ROOM, "erin")
    s.add(ROOM, "alice", RoomEntered())
    fold = DeliveryFold()
    for logged in s.logged:
        fold.apply(logged)
    command, barrage = signal(CommandContent(b"typing")), signal(BarrageContent("wow"))
    assert set(fold.recipients_of(command)) == set(fold.recipients_of(barrage)) == {"erin", "alice"}
    assert is_droppable(barrage)
    assert not is_droppable(command)
    assert not is_droppable(replace(command, payload=MessageSent("t1", TextContent("hi"))))
