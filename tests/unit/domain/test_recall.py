"""Recall rules: sender within the window, group owner or admin at any time."""

from __future__ import annotations

import pytest

from parley.domain.commands import Stamp
from parley.domain.conversations import ConversationType
from parley.domain.errors import Reason, Rejected
from parley.domain.events import CommandContent, Content, MessageRecalled, TextContent
from parley.domain.message_archive import ArchivedMessage
from parley.domain.message_ids import message_id_for
from parley.domain.recall import decide_recall
from parley.domain.write_model import WriteModel
from tests.unit.domain.send_world import GROUP, LIMITS, NOW, PEER, ROOM, command, recorded, world

SENT_AT = NOW  # when the message to recall was sent


def send(
    model: WriteModel, kind: ConversationType, target: str, content: Content | None = None
) -> str:
    """The id of alice's message, sent at SENT_AT and recorded."""
    recorded(model, command(content or TextContent("oops"), kind, target))
    return message_id_for("alice", "c-1")


def recall(
    model: WriteModel, actor: str, kind: ConversationType, target: str, message_id: str, at: int
) -> MessageRecalled:
    event = decide_recall(actor, kind, target, message_id, model, LIMITS, Stamp(at, "r"))
    assert isinstance(event.payload, MessageRecalled)
    model.apply_event(event, 2)
    return event.payload


def reason(
    model: WriteModel, actor: str, kind: ConversationType, target: str, message_id: str, at: int
) -> Reason:
    with pytest.raises(Rejected) as caught:
        decide_recall(actor, kind, target, message_id, model, LIMITS, Stamp(at, "r"))
    return caught.value.reason


def test_decide_recall__sender_within_the_window_inclusive() -> None:
    model = world()
    message_id = send(model, PEER, "bob")
    payload = recall(model, "alice", PEER, "bob", message_id, SENT_AT + LIMITS.recall_window_ms)
    assert payload == MessageRecalled(message_id, "alice")


def test_decide_recall__one_millisecond_after_the_window() -> None:
    model = world()
    message_id = send(model, PEER, "bob")
    late = SENT_AT + LIMITS.recall_window_ms + 1
    assert reason(model, "alice", PEER, "bob", message_id, late) is Reason.RECALL_WINDOW_EXPIRED


def test_decide_recall__the_peer_may_not_recall_the_senders_message() -> None:
    model = world()
    message_id = send(model, PEER, "bob")
    assert reason(model, "bob", PEER, "alice", message_id, SENT_AT) is Reason.RECALL_NOT_PERMITTED


def test_decide_recall__group_owner_and_admin_at_any_time() -> None:
    model = world()
    message_id = send(model, GROUP, "team")
    much_later = SENT_AT + 10 * LIMITS.recall_window_ms
    assert reason(model, "bob", GROUP, "team", message_id, SENT_AT) is Reason.RECALL_NOT_PERMITTED
    assert recall(model, "ada", GROUP, "team", message_id, much_later).original_sender_id == "alice"
    assert reason(model, "owner", GROUP, "team", message_id, much_later) is Reason.ALREADY_RECALLED


def test_decide_recall__already_recalled() -> None:
    model = world()
    message_id = send(model, PEER, "bob")
    recall(model, "alice", PEER, "bob", message_id, SENT_AT)
    assert reason(model, "alice", PEER, "bob", message_id, SENT_AT) is Reason.ALREADY_RECALLED


def test_decide_recall__unknown_message_or_other_conversation() -> None:
    model = world()
    message_id = send(model, PEER, "bob")
    unknown = message_id_for("alice", "never")
    assert reason(model, "alice", PEER, "bob", unknown, SENT_AT) is Reason.MESSAGE_NOT_FOUND
    assert reason(model, "alice", PEER, "carol", message_id, SENT_AT) is Reason.MESSAGE_NOT_FOUND
    assert reason(model, "alice", GROUP, "team", message_id, SENT_AT) is Reason.MESSAGE_NOT_FOUND


def test_decide_recall__commands_are_never_stored_so_never_found() -> None:
    model = world()
    message_id = send(model, PEER, "bob", CommandContent(b"typing"))
    assert reason(model, "alice", PEER, "bob", message_id, SENT_AT) is Reason.MESSAGE_NOT_FOUND


def test_decide_recall__group_membership_is_checked_first() -> None:
    model = world()
    message_id = send(model, GROUP, "team")
    assert reason(model, "eve", GROUP, "team", message_id, SENT_AT) is Reason.NOT_A_MEMBER
    assert reason(model, "alice", GROUP, "nope", message_id, SENT_AT) is Reason.GROUP_NOT_FOUND


def test_decide_recall__room_messages_are_not_recalled() -> None:
    model = world()
    message_id = send(model, ROOM, "lobby")
    assert reason(model, "alice", ROOM, "lobby", message_id, SENT_AT) is Reason.RECALL_NOT_PERMITTED


def archived(
    message_id: str, key: str, sender: str = "alice", recalled: bool = False
) -> dict[str, ArchivedMessage]:
    """What the caller read from the message archive about a message past the index's window."""
    return {
        message_id: ArchivedMessage(
            message_id, key, 7, sender, SENT_AT, 41, False, recalled, b"d" * 16, "f" * 32
        )
    }


def test_decide_recall__an_owner_recalls_a_message_older_than_the_window_from_the_archive() -> None:
    model = world()  # the index never saw it: it is past the window, in the archive only
    old = message_id_for("alice", "long-ago")
    much_later = SENT_AT + 100 * LIMITS.recall_window_ms
    found = archived(old, "g:team")
    event = decide_recall("owner", GROUP, "team", old, model, LIMITS, Stamp(much_later, "r"), found)
    assert event.payload == MessageRecalled(old, "alice")
    assert reason(model, "owner", GROUP, "team", old, much_later) is Reason.MESSAGE_NOT_FOUND


@pytest.mark.parametrize(
    ("actor", "found", "expected"),
    [
        ("alice", archived("m_old", "g:team"), Reason.RECALL_WINDOW_EXPIRED),
        ("bob", archived("m_old", "g:team"), Reason.RECALL_NOT_PERMITTED),
        ("ada", archived("m_old", "g:team", recalled=True), Reason.ALREADY_RECALLED),
        ("ada", archived("m_old", "g:other"), Reason.MESSAGE_NOT_FOUND),
    ],
)
def test_decide_recall__an_archived_message_keeps_every_reason_code(
    actor: str, found: dict[str, ArchivedMessage], expected: Reason
) -> None:
    model = world()
    much_later = SENT_AT + 100 * LIMITS.recall_window_ms
    with pytest.raises(Rejected) as caught:
        decide_recall(actor, GROUP, "team", "m_old", model, LIMITS, Stamp(much_later, "r"), found)
    assert caught.value.reason is expected


def test_decide_recall__the_index_wins_over_the_archive_it_lags() -> None:
    model = world()
    message_id = send(model, GROUP, "team")
    recall(model, "ada", GROUP, "team", message_id, SENT_AT)
    stale = archived(message_id, "g:team")  # the projector has not seen the recall yet
    with pytest.raises(Rejected) as caught:
        decide_recall("owner", GROUP, "team", message_id, model, LIMITS, Stamp(SENT_AT, "r"), stale)
    assert caught.value.reason is Reason.ALREADY_RECALLED
