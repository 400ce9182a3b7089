"""heap.settle: the loaded state is frozen out of the collector's walks, and so are the
survivors of every later full collection."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from parley import heap


@pytest.fixture
def restored_gc() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    if heap._freeze_after_full_collection in gc.callbacks:
        gc.callbacks.remove(heap._freeze_after_full_collection)
    gc.unfreeze()
    gc.set_threshold(*threshold)


def test_heap__settle_freezes_the_loaded_state_and_later_survivors(restored_gc: None) -> None:
    state = [[n] for n in range(10_000)]  # lists are always tracked by the collector
    heap.settle()
    frozen = gc.get_freeze_count()
    assert frozen >= len(state)
    assert gc.get_threshold()[0] == heap.YOUNG_THRESHOLD
    later = [[n] for n in range(5_000)]
    gc.collect()  # a full collection: its survivors join the frozen ones
    # Frozen objects that die leave the count (other threads of the test process free some), so
    # allow a few; without the callback the count would not grow by `later` at all.
    assert gc.get_freeze_count() >= frozen + len(later) - 500
    heap.settle()  # idempotent: one callback, however often it is called
    assert gc.callbacks.count(heap._freeze_after_full_collection) == 1
