"""Read-your-writes bookkeeping: the positions a read must see projected."""

from __future__ import annotations

from parley.domain.conversations import ConversationType
from parley.domain.events import (
    CommandContent,
    Event,
    GroupCreated,
    MessageSent,
    Payload,
    Position,
    TextContent,
)
from parley.domain.read_your_writes import WrittenPositions, still_ahead


def event(key: str, actor: str, payload: Payload) -> Event:
    type_ = ConversationType.GROUP if key.startswith("g:") else ConversationType.PEER
    return Event("e", key, type_, actor, 1, payload)


def test_written_positions__conversation_and_own_writes_only_grow() -> None:
    positions = WrittenPositions()
    positions.note(event("g:team", "alice", GroupCreated("team", "T", "alice")), Position(1, 7))
    positions.note(event("p:alice:bob", "bob", MessageSent("m", TextContent("x"))), Position(0, 3))
    # The log follower brings alice's write back later: an older position changes nothing.
    positions.note(event("g:team", "alice", GroupCreated("team", "T", "alice")), Position(1, 5))
    assert positions.of_conversation("g:team") == {1: 7}
    assert positions.of_conversation("p:alice:bob") == {0: 3}
    assert positions.of_user("alice") == {1: 7}
    assert positions.of_user("bob") == {0: 3}
    assert positions.of_user("carol") == {} and positions.of_conversation("g:x") == {}


def test_written_positions__signals_are_not_projected_so_never_waited_for() -> None:
    positions = WrittenPositions()
    positions.note(
        event("p:alice:bob", "alice", MessageSent("c", CommandContent(b"x"))), Position(0, 9)
    )
    assert positions.of_conversation("p:alice:bob") == {} and positions.of_user("alice") == {}


def test_written_positions__forgets_the_least_recent_past_its_bounds() -> None:
    positions = WrittenPositions(max_conversations=2, max_users=2)
    for i, (key, user) in enumerate([("g:a", "u1"), ("g:b", "u2"), ("g:c", "u3")]):
        positions.note(event(key, user, MessageSent(f"m{i}", TextContent("x"))), Position(0, i))
    assert positions.of_conversation("g:a") == {} and positions.of_user("u1") == {}
    assert positions.of_conversation("g:c") == {0: 2} and positions.of_user("u3") == {0: 2}


def test_still_ahead__what_the_projection_has_not_applied() -> None:
    assert still_ahead({0: 5, 1: 2}, {0: 5, 1: 1}) == {1: 2}
    assert still_ahead({2: 0}, {}) == {2: 0}
    assert still_ahead({}, {}) == {}
