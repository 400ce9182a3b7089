"""The write model folds the log: directory, message index and send ledger together."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from parley.domain.commands import SendCommand, SendReceipt, Stamp
from parley.domain.conversations import ConversationType
from parley.domain.events import (
    BarrageContent,
    CommandContent,
    CustomContent,
    Event,
    GroupCreated,
    GroupMembersAdded,
    GroupMembersRemoved,
    Logged,
    MessageRecalled,
    Position,
    Priority,
    TextContent,
)
from parley.domain.limits import Limits
from parley.domain.message_ids import (
    fingerprint,
    fingerprint_of_event,
    message_id_for,
    normalised_payload,
)
from parley.domain.moderation import InterceptorChain
from parley.domain.rate_limit import RateLimiter
from parley.domain.sending import SendDecider
from parley.domain.write_model import WriteModel
from tests.unit.domain.redelivery import batches_twice, rewound

USERS = ["owner", "alice", "bob"]
PEER, ROOM, GROUP = ConversationType.PEER, ConversationType.ROOM, ConversationType.GROUP


def group_event(payload: GroupCreated | GroupMembersAdded | GroupMembersRemoved) -> Event:
    return Event("g", "g:team", GROUP, "owner", 0, payload)


def sent_event(sender: str, cmid: str, text: str, at: int) -> Event:
    decider = SendDecider(WriteModel(), Limits(), RateLimiter(1), InterceptorChain())
    receiver = "bob" if sender != "bob" else "alice"
    cmd = SendCommand(sender, PEER, receiver, cmid, TextContent(text))
    event = decider.prepare(cmd, Stamp(at, "e"))
    assert isinstance(event, Event)
    return event


def test_write_model__a_logged_send_lands_in_ledger_and_index() -> None:
    model = WriteModel()
    event = sent_event("alice", "c-1", "hi", 77)
    model.apply(Logged(event, Position(2, 40), topic="parley.conversation-events"))
    entry = model.sends.lookup("alice", "c-1")
    message_id = message_id_for("alice", "c-1")
    assert entry is not None
    assert entry.receipt == SendReceipt(message_id, 40, 77, "p:alice:bob")
    assert entry.fingerprint == fingerprint_of_event(event)
    record = model.messages.get(message_id)
    assert record is not None and (record.sender, record.sent_at_ms) == ("alice", 77)


def test_write_model__the_first_append_of_a_send_is_the_one_kept() -> None:
    model = WriteModel()
    event = sent_event("alice", "c-1", "hi", 77)
    model.apply(Logged(event, Position(0, 40)))
    model.apply(Logged(event, Position(0, 45)))
    entry = model.sends.lookup("alice", "c-1")
    assert entry is not None and entry.receipt.order_key == 40


def test_write_model__group_events_reach_the_directory() -> None:
    model = WriteModel()
    model.apply(Logged(group_event(GroupCreated("team", "T", "owner", ("alice",))), Position(0, 0)))
    group = model.directory.group("team")
    assert group is not None and group.is_member("alice")


CONTENTS = st.one_of(
    st.builds(TextContent, st.text(min_size=1, max_size=20)),
    st.builds(CommandContent, st.binary(max_size=20)),
    st.builds(CustomContent, st.integers(0, 9), st.text(max_size=10), st.text(max_size=10)),
)


@given(
    content=CONTENTS,
    kind=st.sampled_from([PEER, GROUP]),
    mentions=st.lists(st.sampled_from(USERS), max_size=4).map(tuple),
    ext=st.dictionaries(st.text("abc", min_size=1, max_size=3), st.text(max_size=3), max_size=3),
    priority=st.sampled_from(list(Priority)),
    receipt=st.booleans(),
)
def test_write_model__fingerprint_of_the_command_equals_that_of_its_event(
    content: TextContent | CommandContent | CustomContent,
    kind: ConversationType,
    mentions: tuple[str, ...],
    ext: dict[str, str],
    priority: Priority,
    receipt: bool,
) -> None:
    model = WriteModel()
    model.apply(Logged(group_event(GroupCreated("team", "T", "owner", ("alice",))), Position(0, 0)))
    target = "team" if kind is GROUP else "bob"
    cmd = SendCommand(
        "alice",
        kind,
        target,
        "c-1",
        content,
        mentioned_user_ids=mentions if kind is GROUP else (),
        priority=priority,
        ext=tuple(reversed(ext.items())),
        receipt_requested=receipt,
    )
    decider = SendDecider(model, Limits(), RateLimiter(1), InterceptorChain())
    event = decider.prepare(cmd, Stamp(1, "e"))
    assert isinstance(event, Event)
    assert fingerprint(cmd) == fingerprint_of_event(event)


def test_write_model__barrage_fingerprints_agree_too() -> None:
    cmd = SendCommand("alice", ROOM, "lobby", "c-1", BarrageContent("wow"))
    event = Event(
        message_id_for("alice", "c-1"),
        "r:lobby",
        ROOM,
        "alice",
        1,
        normalised_payload(cmd, ""),
        client_message_id="c-1",
    )
    assert fingerprint(cmd) == fingerprint_of_event(event)


# --- idempotency of the whole fold -------------------------------------------------------------

SENDS = st.builds(
    sent_event,
    st.sampled_from(USERS),
    st.sampled_from(["c1", "c2"]),
    st.sampled_from(["hi", "ho"]),
    st.integers(0, 10),
)
USER_TUPLES = st.lists(st.sampled_from(USERS), max_size=3).map(tuple)


def sent_then_recalled(sent: Event) -> list[Event]:
    # A recall is decided only once its message is indexed, and shares its partition, so the
    # log always holds it after the send.
    recalled = MessageRecalled(sent.event_id, sent.actor)
    return [sent, Event("r", sent.conversation_key, PEER, sent.actor, 5, recalled)]


STEPS = st.one_of(
    SENDS.map(lambda sent: [sent]),
    st.builds(group_event, st.builds(GroupMembersAdded, USER_TUPLES)).map(lambda e: [e]),
    st.builds(group_event, st.builds(GroupMembersRemoved, USER_TUPLES)).map(lambda e: [e]),
    SENDS.map(sent_then_recalled),
)
EVENTS = st.lists(STEPS, max_size=12).map(lambda steps: [e for step in steps for e in step])
START = [Logged(group_event(GroupCreated("team", "T", "owner", ("alice",))), Position(0, 0))]


def fold(logged: list[Logged]) -> tuple[object, ...]:
    model = WriteModel()
    for entry in [*START, *logged]:
        model.apply(entry)
    ids = [message_id_for(user, cmid) for user in USERS for cmid in ("c1", "c2")]
    return (
        model.directory.group("team"),
        [model.messages.get(message_id) for message_id in ids],
        [model.sends.lookup(user, cmid) for user in USERS for cmid in ("c1", "c2")],
    )


def positioned(events: list[Event]) -> list[Logged]:
    return [Logged(event, Position(0, offset + 1)) for offset, event in enumerate(events)]


@given(EVENTS)
def test_write_model__each_event_applied_twice_equals_once(events: list[Event]) -> None:
    logged = positioned(events)
    assert fold([entry for entry in logged for _ in range(2)]) == fold(logged)


@given(EVENTS, st.data())
def test_write_model__a_redelivered_window_equals_once(
    events: list[Event], data: st.DataObject
) -> None:
    logged = positioned(events)
    assert fold(rewound(logged, data)) == fold(logged)


@given(EVENTS, st.lists(st.integers(1, 5), min_size=1, max_size=8))
def test_write_model__batches_redelivered_equal_once(events: list[Event], sizes: list[int]) -> None:
    logged = positioned(events)
    assert fold(batches_twice(logged, sizes)) == fold(logged)
