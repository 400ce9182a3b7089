"""Broadcasts to every online user."""

from __future__ import annotations

import pytest

from parley.domain.broadcasts import decide_broadcast
from parley.domain.commands import Stamp
from parley.domain.errors import Reason, Rejected
from parley.domain.events import (
    BarrageContent,
    BroadcastSent,
    Content,
    TextContent,
)
from parley.domain.log_streams import Stream, stream_for
from parley.domain.message_ids import message_id_for

STAMP = Stamp(5, "ev-1", "req")


def test_decide_broadcast__deterministic_id_on_the_broadcast_stream() -> None:
    event = decide_broadcast("system", "b-1", TextContent("maintenance"), STAMP)
    message_id = message_id_for("system", "b-1")
    assert event.event_id == message_id
    assert event.payload == BroadcastSent(message_id, TextContent("maintenance"))
    assert stream_for(event) is Stream.BROADCASTS
    assert decide_broadcast("system", "b-1", TextContent("maintenance"), STAMP) == event


@pytest.mark.parametrize(
    ("actor", "cmid", "content", "expected"),
    [
        ("system", "", TextContent("x"), Reason.BAD_PARAMETER),
        ("not valid", "b", TextContent("x"), Reason.BAD_PARAMETER),
        ("system", "b", BarrageContent("x"), Reason.TYPE_NOT_ALLOWED),
        ("system", "b", TextContent("x" * 32_769), Reason.MESSAGE_TOO_LARGE),
    ],
)
def test_decide_broadcast__rejections(
    actor: str, cmid: str, content: Content, expected: Reason
) -> None:
    with pytest.raises(Rejected) as caught:
        decide_broadcast(actor, cmid, content, STAMP)
    assert caught.value.reason is expected
