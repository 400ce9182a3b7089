"""Blocking and unblocking users."""

from __future__ import annotations

import pytest

from parley.domain.commands import Stamp
from parley.domain.contacts import decide_block, decide_unblock
from parley.domain.errors import Reason, Rejected
from parley.domain.events import UserBlocked, UserUnblocked
from parley.domain.write_model import WriteModel

STAMP = Stamp(5, "ev-1")


def test_decide_block__on_the_blockers_own_stream() -> None:
    model = WriteModel()
    event = decide_block("alice", "bob", model, STAMP)
    assert (event.conversation_key, event.actor, event.payload) == (
        "u:alice",
        "alice",
        UserBlocked("bob"),
    )
    model.apply_event(event, 0)
    assert model.directory.has_blocked("alice", "bob")


def test_decide_unblock__lifts_the_block() -> None:
    model = WriteModel()
    model.apply_event(decide_block("alice", "bob", model, STAMP), 0)
    event = decide_unblock("alice", "bob", model, STAMP)
    assert event.payload == UserUnblocked("bob")
    model.apply_event(event, 1)
    assert not model.directory.has_blocked("alice", "bob")


@pytest.mark.parametrize("user_id", ["alice", "not valid", ""])
def test_decide_block__self_or_malformed_is_a_bad_parameter(user_id: str) -> None:
    with pytest.raises(Rejected) as caught:
        decide_block("alice", user_id, WriteModel(), STAMP)
    assert caught.value.reason is Reason.BAD_PARAMETER
