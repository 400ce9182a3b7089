"""docs/events.md is the contract generated from protos/ (run `python -m parley.events_doc`)."""

from parley.domain.log_streams import Stream
from parley.events_doc import CONTRACTS, DOC, render


def test_events_doc__is_current() -> None:
    assert DOC.read_text() == render(), "docs/events.md is stale: run python -m parley.events_doc"


def test_events_doc__names_every_topic_and_event_type() -> None:
    text = render()
    assert set(CONTRACTS) == set(Stream)
    for stream in Stream:
        assert f"### `{stream.value}`" in text
    for payload in ("message_sent", "message_recalled", "group_members_added", "broadcast_sent"):
        assert f"`{payload}`" in text
    assert "Deduplicate by:** `Event.event_id`" in text
    assert "forever" in text and "Compatibility rules" in text
