"""Message ids and send fingerprints."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parley.domain.commands import SendCommand
from parley.domain.conversations import ConversationType, check_id
from parley.domain.errors import Reason, Rejected
from parley.domain.events import CustomContent, Event, Priority, TextContent
from parley.domain.limits import Limits
from parley.domain.message_ids import (
    check_client_message_id,
    fingerprint,
    fingerprint_of_event,
    is_message_id,
    message_id_for,
    normalised_payload,
)

CMD = SendCommand(
    sender="alice",
    conversation_type=ConversationType.GROUP,
    target_id="team",
    client_message_id="c-1",
    content=TextContent("hello"),
    mentioned_user_ids=("bob", "carol", "bob"),
    priority=Priority.HIGH,
    ext=(("z", "1"), ("a", "2")),
)


def _event_for(cmd: SendCommand, key: str) -> Event:
    return Event(
        event_id=message_id_for(cmd.sender, cmd.client_message_id),
        conversation_key=key,
        conversation_type=cmd.conversation_type,
        actor=cmd.sender,
        server_time_ms=5,
        payload=normalised_payload(cmd, ""),
        client_message_id=cmd.client_message_id,
    )


def test_message_id_for__is_deterministic_and_well_formed() -> None:
    first = message_id_for("alice", "c-1")
    assert first == message_id_for("alice", "c-1")
    assert is_message_id(first)
    assert len(first) == 28


def test_message_id_for__differs_by_sender_and_client_id() -> None:
    ids = {
        message_id_for("alice", "c-1"),
        message_id_for("bob", "c-1"),
        message_id_for("alice", "c-2"),
    }
    assert len(ids) == 3
    # Length-prefixing keeps ("ab", "c") and ("a", "bc") apart.
    assert message_id_for("ab", "c") != message_id_for("a", "bc")


def test_is_message_id__rejects_other_shapes() -> None:
    assert not is_message_id("")
    assert not is_message_id("m_short")
    assert not is_message_id("x_" + "a" * 26)
    assert not is_message_id(message_id_for("alice", "c-1") + "\n")  # "$" alone would pass it


@pytest.mark.parametrize(
    ("check", "value"),
    [
        (lambda v: check_id(v, "user id"), "bob\n"),
        (lambda v: check_client_message_id(v, Limits().client_message_id_max), "c-1\n"),
    ],
    ids=["user-id", "client-message-id"],
)
def test_ids__a_trailing_newline_is_a_bad_parameter(
    check: Callable[[str], str], value: str
) -> None:
    """Found by reading the patterns: re.match with "...$" accepts one trailing newline."""
    with pytest.raises(Rejected) as caught:
        check(value)
    assert caught.value.reason is Reason.BAD_PARAMETER
    check(value.rstrip())  # the same id without it is fine


@pytest.mark.parametrize("value", ["", "has space", "é", "x" * 65])
def test_check_client_message_id__rejects_malformed(value: str) -> None:
    with pytest.raises(Rejected) as caught:
        check_client_message_id(value, Limits().client_message_id_max)
    assert caught.value.reason is Reason.BAD_PARAMETER


def test_check_client_message_id__accepts_64_characters() -> None:
    assert check_client_message_id("x" * 64, 64) == "x" * 64


def test_fingerprint__agrees_with_the_event_of_the_same_send() -> None:
    assert fingerprint(CMD) == fingerprint_of_event(_event_for(CMD, "g:team"))


def test_fingerprint__ignores_ext_order_and_duplicate_mentions() -> None:
    reordered = dataclasses.replace(
        CMD, ext=(("a", "2"), ("z", "1")), mentioned_user_ids=("bob", "carol")
    )
    assert fingerprint(reordered) == fingerprint(CMD)


@pytest.mark.parametrize(
    "change",
    [
        {"content": TextContent("hello!")},
        {"content": CustomContent(1, "hello")},
        {"target_id": "other"},
        {"conversation_type": ConversationType.ROOM},
        {"mentioned_user_ids": ("bob",)},
        {"mention_all": True},
        {"priority": Priority.LOW},
        {"reply_to_message_id": message_id_for("x", "y")},
        {"ext": (("a", "3"),)},
        {"receipt_requested": True},
    ],
)
def test_fingerprint__changes_with_every_content_field(change: dict[str, object]) -> None:
    assert fingerprint(dataclasses.replace(CMD, **change)) != fingerprint(CMD)  # type: ignore[arg-type]


def test_fingerprint__same_for_both_directions_of_a_peer_conversation() -> None:
    peer = dataclasses.replace(CMD, conversation_type=ConversationType.PEER, target_id="bob")
    assert fingerprint(peer) == fingerprint_of_event(_event_for(peer, "p:alice:bob"))


@given(text=st.text(max_size=50), cmid=st.text(alphabet="abc-1", min_size=1, max_size=8))
def test_fingerprint__agrees_with_event_for_any_text(text: str, cmid: str) -> None:
    cmd = dataclasses.replace(CMD, content=TextContent(text), client_message_id=cmid)
    assert fingerprint(cmd) == fingerprint_of_event(_event_for(cmd, "g:team"))
