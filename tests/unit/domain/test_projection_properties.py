"""Properties of the projection: redelivery, crashes and batch boundaries change nothing."""

from __future__ import annotations

import random
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from parley.adapters.memory_projection_store import InMemoryReadModels
from parley.domain.projection_fold import fold
from parley.domain.projection_state import (
    ConversationState,
    from_json,
    recent_from_history,
    to_json,
)
from parley.domain.read_models import HistoryRow
from tests.unit.domain.projection_script import GROUP, PEER_AB, ROOM, Script

USERS = ("alice", "bob", "carol", "dave")
KEYS = (PEER_AB, GROUP, ROOM, "p:carol:dave")

op = st.tuples(
    st.sampled_from(
        [
            "send",
            "send",
            "send",
            "recall",
            "read",
            "read_message",
            "delivered",
            "delete",
            "join",
            "leave",
            "dismiss",
            "duplicate",
            "mention",
        ]
    ),
    st.sampled_from(KEYS),
    st.sampled_from(USERS),
    st.integers(0, 10),
)


def build(ops: list[tuple[str, str, str, int]]) -> Script:
    """A plausible log: groups and rooms are created first; ids refer to earlier messages."""
    s = Script()
    s.create_group(GROUP, "carol", ("alice", "bob"))
    s.create_room(ROOM, "erin")
    sent: dict[str, list[tuple[str, str]]] = {key: [] for key in KEYS}
    for kind, key, user, n in ops:
        if key.startswith("p:"):
            user = key.split(":")[1 + n % 2]
        earlier = sent[key][n % len(sent[key])] if sent[key] else None
        if kind in ("send", "mention"):
            mention = {"mentioned_user_ids": (USERS[n % 4],), "mention_all": n % 3 == 0}
            extra: dict[str, Any] = mention if kind == "mention" else {}
            mid = s.send(key, user, f"text {n}", receipt_requested=n % 2 == 0, **extra)
            sent[key].append((mid, user))
        elif kind == "recall" and earlier:
            s.recall(key, earlier[1], earlier[0], earlier[1])
        elif kind == "read":
            s.read(key, user, n)
        elif kind == "read_message" and earlier:
            s.read_message(key, user, earlier[0])
        elif kind == "delivered" and earlier:
            s.delivered(key, user, earlier[0])
        elif kind == "delete":
            s.delete(key, user, delete_history=n % 2 == 0)
        elif kind == "join" and key == GROUP:
            s.add_members(key, "carol", (user,))
        elif kind == "leave" and key == GROUP:
            s.remove_members(key, "carol", (user,))
        elif kind == "dismiss" and key == ROOM:
            s.dismiss_room(key, "erin")
        elif kind == "duplicate" and s.logged:
            s.duplicate(n % len(s.logged))
    return s


def once(script: Script) -> tuple[dict[str, str], dict[Any, Any]]:
    states: dict[str, ConversationState] = {}
    models = InMemoryReadModels()
    models.apply(fold(states, script.logged).writes.values())
    return {k: to_json(v) for k, v in states.items()}, models.snapshot()


def reloaded(saved: str, models: InMemoryReadModels) -> ConversationState:
    """A state as the store loads it: its JSON, plus the recent window rebuilt from history."""
    state = from_json(saved)
    rows = [
        (row.seq, row.message_id, row.sender_id, row.receipt_requested, row.sent_at_ms)
        for row in models.rows.values()
        if isinstance(row, HistoryRow) and row.conversation_key == state.key
    ]
    recent_from_history(state, sorted(rows, reverse=True))
    return state


@settings(max_examples=150, deadline=None)
@given(st.lists(op, max_size=60))
def test_projection__applying_the_log_twice_equals_applying_it_once(ops: list[Any]) -> None:
    script = build(ops)
    expected = once(script)
    states: dict[str, ConversationState] = {}
    models = InMemoryReadModels()
    models.apply(fold(states, script.logged).writes.values())
    models.apply(fold(states, script.logged).writes.values())
    assert ({k: to_json(v) for k, v in states.items()}, models.snapshot()) == expected


@settings(max_examples=150, deadline=None)
@given(st.lists(op, max_size=60), st.integers(0, 2**32))
def test_projection__redelivered_batches_and_crashes_equal_applying_once(
    ops: list[Any], seed: int
) -> None:
    """Batches of random size; some attempts crash after writing a random part of their rows
    (before the states are saved), and processing resumes from the last committed offset with
    the states reloaded from their stored JSON."""
    script, rng = build(ops), random.Random(seed)
    expected = once(script)
    models, saved = InMemoryReadModels(), dict[str, str]()
    states: dict[str, ConversationState] = {}
    committed = 0
    while committed < len(script.logged):
        end = min(len(script.logged), committed + rng.randint(1, 8))
        batch = fold(states, script.logged[committed:end])
        writes = list(batch.writes.values())
        if rng.random() < 0.3:  # crash: part of phase 1 written, states lost
            models.apply(rng.sample(writes, rng.randint(0, len(writes))))
            states = {k: reloaded(v, models) for k, v in saved.items()}
            committed = max(0, committed - rng.randint(0, 3))  # Kafka commit may lag behind
            continue
        models.apply(writes)
        saved.update({k: to_json(v) for k, v in batch.touched.items()})
        committed = end
    assert (saved, models.snapshot()) == expected
