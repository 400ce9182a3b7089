"""Checkpoints of the in-memory folds: restored plus the tail equals folded from offset 0, and a
bad checkpoint is never used."""

from __future__ import annotations

import dataclasses
import zlib
from collections.abc import Callable
from functools import partial
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parley.adapters.memory_checkpoints import InMemoryCheckpointStore
from parley.checkpointing import restore_newest, store_checkpoint
from parley.domain.checkpoints import FORMAT_VERSION, canonical, seal, unseal
from parley.domain.delivery_fold import DELIVERY_FOLD, DeliveryFold
from parley.domain.events import (
    ImageContent,
    Logged,
    MediaRef,
    MediaUploaded,
    MessageSent,
    Picture,
    UserBlocked,
    UserUnblocked,
)
from parley.domain.fold_windows import FoldWindows
from parley.domain.media_uploads import object_id_from
from parley.domain.write_model import WRITE_MODEL_FOLD, WriteModel
from tests.unit.domain.projection_script import PEER_AB, Script
from tests.unit.domain.test_projection_properties import build, op

TOPIC = "conv"
PHOTO = object_id_from(b"c" * 16)
IMAGE = ImageContent(
    MediaRef(object_id=PHOTO, file_name="a.png", size_bytes=10, mime_type="image/png"),
    4, 3, Picture(2, 1, 5), Picture(4, 3, 9),
)  # fmt: skip


def history(ops: list[Any]) -> list[Logged]:
    """A generated conversation log plus uploads, media messages and blocks; every send
    carries a client message id, as the ingress writes them."""
    script: Script = build(ops)
    # User streams ("u:<id>") travel with the peer type, as the ingress writes them.
    script.add(PEER_AB, "alice", MediaUploaded(IMAGE))
    script.send(PEER_AB, "alice", "photo")
    script.add(PEER_AB, "alice", MessageSent("m-photo", IMAGE, recipient_id="bob"), "m-photo")
    for payload in (UserBlocked("carol"), UserBlocked("dave"), UserUnblocked("dave")):
        script.add(PEER_AB, "bob", payload)
    user_streams = {MediaUploaded: "u:alice", UserBlocked: "u:bob", UserUnblocked: "u:bob"}
    fixed = []
    for logged in script.logged:
        event, kind = logged.event, type(logged.event.payload)
        if kind in user_streams:
            event = dataclasses.replace(event, conversation_key=user_streams[kind])
        elif kind is MessageSent:
            event = dataclasses.replace(event, client_message_id=f"c-{event.event_id}")
        fixed.append(dataclasses.replace(logged, event=event))
    return fixed


# Windows of a few events (the script's events are 1 s apart), so pruning happens in the tests.
NARROW = FoldWindows(recall_ms=2_000, idempotency_ms=5_000, media_ms=3_000)
FOLDS: list[tuple[str, Callable[[], Any], Callable[[Any], Any]]] = [
    (WRITE_MODEL_FOLD, WriteModel, WriteModel.from_document),
    (DELIVERY_FOLD, DeliveryFold, DeliveryFold.from_document),
    (WRITE_MODEL_FOLD, partial(WriteModel, windows=NARROW),
     partial(WriteModel.from_document, windows=NARROW)),
    (DELIVERY_FOLD, partial(DeliveryFold, NARROW),
     partial(DeliveryFold.from_document, windows=NARROW)),
]  # fmt: skip


@settings(max_examples=100, deadline=None)
@given(st.lists(op, max_size=60), st.integers(0, 10**6))
def test_checkpoint__restored_plus_the_tail_equals_folded_from_offset_zero(
    ops: list[Any], cut_at: int
) -> None:
    logged = history(ops)
    cut = cut_at % (len(logged) + 1)
    for name, empty, from_document in FOLDS:
        whole = empty()
        for one in logged:
            whole.apply(one)
        head = empty()
        for one in logged[:cut]:
            head.apply(one)
        sealed = seal(name, 1, TOPIC, {0: cut}, head.to_document())
        restored = from_document(unseal(sealed, name, TOPIC))
        # The restored fold is the same bytes as the one it was taken from...
        assert canonical(restored.to_document()) == canonical(head.to_document())
        for one in logged[cut:]:
            restored.apply(one)
        # ...and after the tail, the same as the fold of the whole log: seqs, members, ledger.
        assert canonical(restored.to_document()) == canonical(whole.to_document()), name


async def test_restore__a_corrupted_newest_checkpoint_is_skipped_for_an_older_one() -> None:
    store = InMemoryCheckpointStore()
    model = WriteModel()
    for one in history([])[:3]:
        model.apply(one)
    await store.save(seal(WRITE_MODEL_FOLD, 1, TOPIC, {0: 3}, model.to_document()))
    await store.save(seal(WRITE_MODEL_FOLD, 2, TOPIC, {0: 5}, model.to_document()))
    store.corrupt(WRITE_MODEL_FOLD, 2, b"\x00" * 20)
    restored, positions = await restore_newest(
        store, WRITE_MODEL_FOLD, TOPIC, {0: 9}, WriteModel.from_document
    )
    assert positions == {0: 3}
    assert restored is not None
    assert canonical(restored.to_document()) == canonical(model.to_document())


@pytest.mark.parametrize(
    "spoil",
    [
        lambda c: dataclasses.replace(c, format_version=FORMAT_VERSION - 1),
        lambda c: dataclasses.replace(c, positions={0: 99}),  # past the log's end
        lambda c: dataclasses.replace(c, topic="another"),
        lambda c: seal(WRITE_MODEL_FOLD, 7, TOPIC, {0: 1}, {"not": "a write model"}),
    ],
)
async def test_restore__no_usable_checkpoint_means_offset_zero(spoil: Any) -> None:
    store = InMemoryCheckpointStore()
    await store.save(spoil(seal(WRITE_MODEL_FOLD, 7, TOPIC, {0: 1}, WriteModel().to_document())))
    restored, positions = await restore_newest(
        store, WRITE_MODEL_FOLD, TOPIC, {0: 9}, WriteModel.from_document
    )
    assert (restored, positions) == (None, {})


async def test_store_checkpoint__keeps_the_newest_three() -> None:
    store = InMemoryCheckpointStore()
    for events in range(1, 6):
        await store_checkpoint(
            store, DELIVERY_FOLD, TOPIC, {0: events}, DeliveryFold().to_document()
        )
    ids = await store.ids(DELIVERY_FOLD)
    assert len(ids) == 3
    newest = await store.load(DELIVERY_FOLD, ids[0])
    assert newest is not None and newest.positions == {0: 5}


@settings(max_examples=100, deadline=None)
@given(st.lists(op, max_size=60), st.randoms(use_true_random=False))
def test_checkpoint__documents_do_not_depend_on_how_partitions_interleave(
    ops: list[Any], rng: Any
) -> None:
    # Each conversation key keeps its order (one partition); partitions interleave at will.
    logged = history(ops)
    lanes: dict[int, list[Logged]] = {}
    for one in logged:
        lanes.setdefault(zlib.crc32(one.event.conversation_key.encode()) % 3, []).append(one)
    shuffled: list[Logged] = []
    while any(lanes.values()):
        lane = rng.choice([lane for lane in lanes.values() if lane])
        shuffled.append(lane.pop(0))
    for _, empty, _ in FOLDS:
        in_order, interleaved = empty(), empty()
        for one in logged:
            in_order.apply(one)
        for one in shuffled:
            interleaved.apply(one)
        assert canonical(interleaved.to_document()) == canonical(in_order.to_document())
