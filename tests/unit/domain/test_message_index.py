"""The message index used by recall and acks."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from parley.domain.conversations import ConversationType
from parley.domain.events import (
    BarrageContent,
    CommandContent,
    Content,
    Event,
    MessageRecalled,
    MessageSent,
    Payload,
    TextContent,
)
from parley.domain.message_ids import content_digest
from parley.domain.message_index import MessageIndex, MessageRecord


def sent(message_id: str, content: Content | None = None, at: int = 7) -> Event:
    payload = MessageSent(message_id, content or TextContent("hi"))
    return Event(message_id, "g:team", ConversationType.GROUP, "alice", at, payload)


def recalled(message_id: str, key: str = "g:team", at: int = 9) -> Event:
    payload: Payload = MessageRecalled(message_id, "alice")
    return Event("r", key, ConversationType.GROUP, "owner", at, payload)


def test_message_index__remembers_stored_messages() -> None:
    index = MessageIndex()
    index.apply(sent("m1"))
    digest = content_digest(TextContent("hi"))
    assert index.get("m1") == MessageRecord("m1", "g:team", "alice", 7, False, digest)
    assert index.get("m2") is None


def test_message_index__never_indexes_command_or_barrage() -> None:
    index = MessageIndex()
    index.apply(sent("m1", CommandContent(b"x")))
    index.apply(sent("m2", BarrageContent("x")))
    assert len(index) == 0


def test_message_index__recall_marks_the_record() -> None:
    index = MessageIndex()
    index.apply(sent("m1"))
    index.apply(recalled("m1"))
    record = index.get("m1")
    assert record is not None and record.recalled


def test_message_index__recall_in_another_conversation_is_ignored() -> None:
    index = MessageIndex()
    index.apply(sent("m1"))
    index.apply(recalled("m1", key="g:other"))
    record = index.get("m1")
    assert record is not None and not record.recalled


def test_message_index__redelivered_send_does_not_undo_a_recall() -> None:
    index = MessageIndex()
    index.apply(sent("m1"))
    index.apply(recalled("m1"))
    index.apply(sent("m1", at=99))
    digest = content_digest(TextContent("hi"))
    assert index.get("m1") == MessageRecord("m1", "g:team", "alice", 7, True, digest)


def test_message_index__keeps_messages_within_its_window_of_server_time() -> None:
    index = MessageIndex(window_ms=1_000)
    index.apply(sent("m1", at=10_000))
    index.apply(sent("m2", at=10_500))
    index.apply(sent("m3", at=11_000))  # m1 is exactly the window back: still kept
    assert index.get("m1") is not None
    index.apply(sent("m4", at=11_001))
    assert index.get("m1") is None
    assert [r[0] for r in index.to_document()["records"]] == ["m2", "m3", "m4"]


def test_message_index__the_window_follows_the_log_not_the_clock() -> None:
    index = MessageIndex(window_ms=1_000)
    index.apply(sent("m1", at=10_000))
    # Any later event moves the window (a recall, an ack), whatever the wall clock says...
    index.apply(recalled("m9", at=20_000))
    assert [r[0] for r in index.to_document()["records"]] == []
    # ...and a send from before the window is never added back (a redelivery, say).
    index.apply(sent("m0", at=5_000))
    assert index.get("m0") is None


def test_message_index__the_default_window_is_the_longer_of_recall_and_idempotency() -> None:
    index = MessageIndex()
    index.apply(sent("m1", at=0))
    index.apply(sent("m2", at=600_000))
    assert index.get("m1") is not None
    index.apply(sent("m3", at=600_001))
    assert index.get("m1") is None


def test_message_index__restoring_into_a_narrower_window_drops_what_it_would_not_keep() -> None:
    wide = MessageIndex(window_ms=10_000)
    wide.apply(sent("m1", at=1_000))
    wide.apply(sent("m2", at=9_000))
    narrow = MessageIndex(window_ms=1_000)
    narrow.restore(wide.to_document())
    assert narrow.get("m1") is None and narrow.get("m2") is not None
    assert narrow.to_document() == {
        "newest_ms": 9_000,
        "records": [wide.to_document()["records"][1]],
    }


def test_message_index__evicts_the_oldest_beyond_its_bound() -> None:
    index = MessageIndex(max_entries=2)
    for message_id in ("m1", "m2", "m3"):
        index.apply(sent(message_id))
    assert index.get("m1") is None
    assert index.get("m2") is not None and index.get("m3") is not None
    assert len(index) == 2


EVENTS = st.lists(
    st.one_of(
        st.builds(sent, st.sampled_from(["m1", "m2", "m3"])),
        st.builds(recalled, st.sampled_from(["m1", "m2", "m3"])),
    ),
    max_size=20,
)


def fold(events: list[Event]) -> list[MessageRecord | None]:
    index = MessageIndex()
    for event in events:
        index.apply(event)
    return [index.get(message_id) for message_id in ("m1", "m2", "m3")]


@given(EVENTS)
def test_message_index__each_event_applied_twice_equals_once(events: list[Event]) -> None:
    assert fold([event for event in events for _ in range(2)]) == fold(events)
