"""The delivery fold: the projector's seqs, and none of its per-message read-model bookkeeping."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from parley.domain.delivery_fold import DeliveryFold
from parley.domain.projection_fold import fold
from parley.domain.projection_state import ConversationState
from parley.domain.read_models import HistoryRow
from tests.unit.domain.test_projection_properties import build, op


@settings(max_examples=100, deadline=None)
@given(st.lists(op, max_size=80))
def test_delivery_fold__pushes_the_projector_s_seqs_and_keeps_no_unread_bookkeeping(
    ops: list[Any],
) -> None:
    script = build(ops)
    states: dict[str, ConversationState] = {}
    stored = fold(states, script.logged).writes.values()
    projected = {
        (r.conversation_key, r.message_id, r.seq) for r in stored if isinstance(r, HistoryRow)
    }
    delivery = DeliveryFold()
    pushed = set()
    for logged in script.logged:
        out, _ = delivery.apply(logged)
        pushed |= {
            (r.conversation_key, r.message_id, r.seq)
            for r in out.writes
            if isinstance(r, HistoryRow)
        }
    # Rooms' history is erased on dismissal in the read models; delivery pushed it before.
    assert {p for p in projected if not p[0].startswith("r:")} == {
        p for p in pushed if not p[0].startswith("r:")
    }
    for key, state in states.items():
        assert delivery.last_seq(key) == state.last_seq
    document = delivery.to_document()
    for state_document, _ in document["states"]:
        assert state_document["mentions"] == {} and state_document["receipts"] == []
        assert state_document["mention_all"] == []
