"""Webhook rules: signatures, backoff, which endpoints and lanes an event goes to."""

import hashlib
import hmac

import pytest

from parley.domain.conversations import ConversationType
from parley.domain.errors import Rejected
from parley.domain.events import Event, GroupMembersAdded, MessageSent, TextContent
from parley.domain.webhooks import (
    WebhookEndpoint,
    backoff_s,
    check_endpoint,
    event_type_of,
    is_valid_signature,
    lanes_of,
    signature,
)


def _event(key: str, payload: object) -> Event:
    return Event("e", key, ConversationType.GROUP, "alice", 1, payload)  # type: ignore[arg-type]


def test_signature__is_hmac_sha256_of_timestamp_and_body() -> None:
    expected = hmac.new(b"k", b"1700.{}", hashlib.sha256).hexdigest()
    assert signature("k", 1700, b"{}") == f"v1={expected}"
    assert is_valid_signature("k", 1700, b"{}", f"v1={expected}")
    assert not is_valid_signature("k", 1701, b"{}", f"v1={expected}")
    assert not is_valid_signature("other", 1700, b"{}", f"v1={expected}")


def test_backoff_s__doubles_up_to_the_cap() -> None:
    assert [backoff_s(n, 0.5, 3.0) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]


def test_event_type_of__is_the_payload_field_name() -> None:
    assert event_type_of(_event("g:1", MessageSent("m", TextContent("hi")))) == "message_sent"
    assert event_type_of(_event("g:1", GroupMembersAdded(("bob",)))) == "group_members_added"


def test_lanes_of__one_lane_per_endpoint_and_conversation_in_log_order() -> None:
    sent = MessageSent("m", TextContent("hi"))
    events = [
        (_event("g:1", sent), "message_sent"),
        (_event("g:2", sent), "message_sent"),
        (_event("g:1", GroupMembersAdded(("bob",))), "group_members_added"),
        (_event("g:1", sent), "message_sent"),
    ]
    only_sent = WebhookEndpoint("a", "http://x", frozenset({"message_sent"}), "s", 0)
    every = WebhookEndpoint("b", "http://y", frozenset(), "s", 0)
    gone = WebhookEndpoint("c", "http://z", frozenset(), "s", 0, removed=True)
    assert lanes_of(events, [only_sent, every, gone]) == {
        ("a", "g:1"): [0, 3],
        ("a", "g:2"): [1],
        ("b", "g:1"): [0, 2, 3],
        ("b", "g:2"): [1],
    }


@pytest.mark.parametrize(
    ("url", "types"),
    [("ftp://x/hook", []), ("http:///hook", []), ("http://x/hook", ["message_sen"])],
)
def test_check_endpoint__refuses_bad_urls_and_unknown_types(url: str, types: list[str]) -> None:
    with pytest.raises(Rejected):
        check_endpoint(url, types, ["message_sent"])
