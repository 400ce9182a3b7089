"""Acknowledgements, reading a whole conversation and deleting it."""

from __future__ import annotations

import pytest

from parley.domain.acks import (
    AckKind,
    decide_ack,
    decide_conversation_read,
    decide_delete_conversation,
)
from parley.domain.commands import SendCommand, Stamp
from parley.domain.conversations import ConversationType
from parley.domain.errors import Reason, Rejected
from parley.domain.events import (
    ConversationDeleted,
    ConversationRead,
    Event,
    MessageDelivered,
    MessageRead,
    Position,
    TextContent,
)
from parley.domain.groups import (
    GroupChange,
    decide_create_group,
    decide_dismiss_group,
    decide_leave_group,
)
from parley.domain.limits import Limits
from parley.domain.message_archive import ArchivedMessage
from parley.domain.moderation import InterceptorChain
from parley.domain.rate_limit import RateLimiter
from parley.domain.sending import SendDecider
from parley.domain.write_model import WriteModel

LIMITS = Limits()
STAMP = Stamp(5, "ack-1", "req")
PEER, ROOM, GROUP = ConversationType.PEER, ConversationType.ROOM, ConversationType.GROUP


def world() -> tuple[WriteModel, str, str]:
    """Group "team" (owner, alice, bob); alice sent one peer and one group message."""
    model = WriteModel()
    by_owner = GroupChange("owner", "team", model, STAMP)
    model.apply_event(decide_create_group(by_owner, "T", ["alice", "bob"], LIMITS), 0)
    decider = SendDecider(model, LIMITS, RateLimiter(100), InterceptorChain())
    ids = []
    for kind, target in ((PEER, "bob"), (GROUP, "team")):
        event = decider.prepare(
            SendCommand("alice", kind, target, f"c-{target}", TextContent("hi")), Stamp(1, "e")
        )
        assert isinstance(event, Event)
        ids.append(decider.record(event, Position(0, 1)).message_id)
    return model, ids[0], ids[1]


def reason_of_ack(
    actor: str, kind: ConversationType, target: str, message_id: str, model: WriteModel
) -> Reason:
    with pytest.raises(Rejected) as caught:
        decide_ack(actor, kind, target, message_id, AckKind.READ, model, STAMP)
    return caught.value.reason


@pytest.mark.parametrize(
    ("kind", "payload_type"), [(AckKind.DELIVERED, MessageDelivered), (AckKind.READ, MessageRead)]
)
def test_decide_ack__the_recipient_acknowledges(kind: AckKind, payload_type: type) -> None:
    model, peer_message, _ = world()
    event = decide_ack("bob", PEER, "alice", peer_message, kind, model, STAMP)
    assert event.payload == payload_type(peer_message)
    assert (event.conversation_key, event.actor, event.event_id) == ("p:alice:bob", "bob", "ack-1")


def test_decide_ack__group_member_acknowledges() -> None:
    model, _, group_message = world()
    event = decide_ack("bob", GROUP, "team", group_message, AckKind.READ, model, STAMP)
    assert event.payload == MessageRead(group_message)


@pytest.mark.parametrize(
    ("actor", "kind", "target", "of_group", "expected"),
    [
        ("alice", PEER, "bob", False, Reason.BAD_PARAMETER),
        ("bob", GROUP, "team", False, Reason.MESSAGE_NOT_FOUND),
        ("carol", PEER, "alice", False, Reason.MESSAGE_NOT_FOUND),
        ("bob", PEER, "alice", True, Reason.MESSAGE_NOT_FOUND),
        ("eve", GROUP, "team", True, Reason.NOT_A_MEMBER),
        ("bob", ROOM, "lobby", True, Reason.TYPE_NOT_ALLOWED),
    ],
    ids=[
        "own-message",
        "peer-message-through-the-group",
        "peer-message-through-another-peer",
        "group-message-through-a-peer",
        "non-member-of-the-group",
        "rooms-have-no-receipts",
    ],
)
def test_decide_ack__refused(
    actor: str, kind: ConversationType, target: str, of_group: bool, expected: Reason
) -> None:
    """`of_group`: the message acknowledged is alice's group message, else her peer message."""
    model, peer_message, group_message = world()
    message_id = group_message if of_group else peer_message
    assert reason_of_ack(actor, kind, target, message_id, model) is expected


def test_decide_conversation_read__member_reads_up_to_a_sequence() -> None:
    model, _, _ = world()
    event = decide_conversation_read("bob", GROUP, "team", 7, model, STAMP)
    assert event.payload == ConversationRead(7)
    assert decide_conversation_read("bob", PEER, "alice", 0, model, STAMP).payload == (
        ConversationRead(0)
    )


@pytest.mark.parametrize(
    ("actor", "kind", "target", "up_to", "expected"),
    [
        ("bob", GROUP, "team", -1, Reason.BAD_PARAMETER),
        ("eve", GROUP, "team", 0, Reason.NOT_A_MEMBER),
        ("bob", GROUP, "nope", 0, Reason.GROUP_NOT_FOUND),
        ("bob", ROOM, "lobby", 0, Reason.TYPE_NOT_ALLOWED),
        ("bob", PEER, "bob", 0, Reason.SEND_TO_SELF),
    ],
)
def test_decide_conversation_read__rejections(
    actor: str, kind: ConversationType, target: str, up_to: int, expected: Reason
) -> None:
    model, _, _ = world()
    with pytest.raises(Rejected) as caught:
        decide_conversation_read(actor, kind, target, up_to, model, STAMP)
    assert caught.value.reason is expected


def test_decide_delete_conversation__former_members_may_delete_a_dismissed_group() -> None:
    model, _, _ = world()
    model.apply_event(decide_leave_group(GroupChange("bob", "team", model, STAMP)), 2)
    model.apply_event(decide_dismiss_group(GroupChange("owner", "team", model, STAMP)), 3)
    event = decide_delete_conversation("bob", GROUP, "team", True, model, STAMP)
    assert event.payload == ConversationDeleted(delete_history=True)
    assert decide_delete_conversation("bob", PEER, "alice", False, model, STAMP).payload == (
        ConversationDeleted(False)
    )


@pytest.mark.parametrize(
    ("kind", "target", "expected"),
    [(GROUP, "nope", Reason.GROUP_NOT_FOUND), (ROOM, "lobby", Reason.TYPE_NOT_ALLOWED)],
)
def test_decide_delete_conversation__rejections(
    kind: ConversationType, target: str, expected: Reason
) -> None:
    model, _, _ = world()
    with pytest.raises(Rejected) as caught:
        decide_delete_conversation("bob", kind, target, False, model, STAMP)
    assert caught.value.reason is expected


def test_decide_ack__a_message_older_than_the_window_is_acked_from_the_archive() -> None:
    model, _, _ = world()  # the index never saw it: it is past the window, in the archive only
    old = ArchivedMessage("m_old", "g:team", 3, "alice", 1, 41, False, False, b"d" * 16, "f" * 32)
    found = {"m_old": old}
    event = decide_ack("bob", GROUP, "team", "m_old", AckKind.READ, model, STAMP, found)
    assert event.payload == MessageRead("m_old")
    assert reason_of_ack("bob", GROUP, "team", "m_old", model) is Reason.MESSAGE_NOT_FOUND
    with pytest.raises(Rejected) as caught:  # the archive's sender counts as the index's would
        decide_ack("alice", GROUP, "team", "m_old", AckKind.READ, model, STAMP, found)
    assert caught.value.reason is Reason.BAD_PARAMETER
    with pytest.raises(Rejected) as caught:
        decide_ack("bob", PEER, "alice", "m_old", AckKind.READ, model, STAMP, found)
    assert caught.value.reason is Reason.MESSAGE_NOT_FOUND
