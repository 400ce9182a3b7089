"""Garbage collection for long-running services whose heap is mostly long-lived state.

The ingress, delivery and media processes fold the whole log into memory (the write model,
the routing tables), and the projector caches conversation states: millions of objects that
live as long as the process. CPython's full collection walks all of them: the first full
collections of these processes took 60-150 ms (measured with bench-e2e on a small fresh log),
every message in flight waiting them out, and they grow with the log. So once a process has
loaded its state, `settle()` freezes what is alive (gc.freeze: the collector stops
walking it; reference counting still frees it), and after each full collection the survivors
are frozen too, so a full collection only ever walks what became long-lived since the last one.
The cost: a reference cycle among frozen objects is never collected. The state these services
keep is acyclic (dataclasses, dicts, lists of plain values).
"""

from __future__ import annotations

import gc
from typing import Any

# Young collections every 10,000 allocations rather than 700: fewer, still short, pauses.
YOUNG_THRESHOLD = 10_000


def settle() -> None:
    """Call once the process holds its loaded state: freezes it, then keeps freezing."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
    if _freeze_after_full_collection not in gc.callbacks:
        gc.callbacks.append(_freeze_after_full_collection)


def _freeze_after_full_collection(phase: str, info: dict[str, Any]) -> None:
    if phase == "stop" and info.get("generation") == 2:
        gc.freeze()
