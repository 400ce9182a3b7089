"""The one clock and id source of the services: server time in ms and unique ids."""

from __future__ import annotations

import itertools
import time
import uuid

# Ids are this process's random prefix plus a counter: unique across processes and restarts,
# and far cheaper than a uuid4 per request on the send path.
_PROCESS_PREFIX = uuid.uuid4().hex[:16]
_sequence = itertools.count(1)


def wall_clock_ms() -> int:
    """Server time, ms since the Unix epoch."""
    return time.time_ns() // 1_000_000


def new_id(prefix: str = "") -> str:
    """A unique id (event ids, request ids, session ids, stamps of delivered acks)."""
    return f"{prefix}{_PROCESS_PREFIX}{next(_sequence):x}"


def random_id(prefix: str) -> str:
    """An id nobody can guess or predict from another (new groups and rooms)."""
    return f"{prefix}{uuid.uuid4().hex[:20]}"
