"""How a consumer re-reads the log after a crash, for the fold tests' idempotency properties."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from hypothesis import strategies as st

T = TypeVar("T")


def batches_twice(history: Sequence[T], sizes: Sequence[int]) -> list[T]:
    """`history` handed over in batches of the given sizes (repeated), each batch twice: a
    consumer that applied a batch and crashed before committing its offset."""
    redelivered: list[T] = []
    start = 0
    for size in list(sizes) * 10:
        batch = list(history[start : start + size])
        redelivered += batch + batch
        start += size
    redelivered += history[start:]
    return redelivered


def rewound(history: Sequence[T], data: st.DataObject) -> list[T]:
    """`history` read up to a drawn point, then again from a drawn earlier offset: a consumer
    restarting from its last committed offset."""
    reached = data.draw(st.integers(0, len(history)))
    rewound_to = data.draw(st.integers(0, reached))
    return [*history[:reached], *history[rewound_to:]]
