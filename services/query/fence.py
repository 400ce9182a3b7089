"""The read fence: a read waits (bounded) until the projection covers what the caller must see."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from parley.domain.read_your_writes import WrittenPositions, still_ahead

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 2.0
POLL_S = 0.02

AppliedOffsets = Callable[[], Awaitable[dict[int, int]]]


class ReadFence:
    """Holds a read back until the projector has applied, in each partition, the newest event
    this process knows the read depends on (see parley.domain.read_your_writes).

    The projector's applied offsets are cached and re-read only while a read waits for them, so
    a read whose positions are already projected costs no query. Past `timeout_s` the read
    answers from what is projected (the projector may be down): a stale answer beats none.
    """

    def __init__(
        self,
        positions: WrittenPositions,
        applied_offsets: AppliedOffsets,
        timeout_s: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        self._positions = positions
        self._read_applied = applied_offsets
        self._timeout_s = timeout_s
        self._applied: dict[int, int] = {}
        self._refreshing: asyncio.Task[dict[int, int]] | None = None

    async def conversation(self, key: str) -> None:
        """Before reading one conversation: every event of it this process has seen."""
        await self._wait(self._positions.of_conversation(key))

    async def user(self, user_id: str) -> None:
        """Before reading a user's lists: everything the user wrote, as far as this process
        has seen."""
        await self._wait(self._positions.of_user(user_id))

    async def _wait(self, required: dict[int, int]) -> None:
        if not still_ahead(required, self._applied):
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._timeout_s
        while True:
            try:
                await self._refresh()
            except Exception as error:  # the read itself will say whether Cassandra answers
                log.warning("projection positions unreadable, read not held back: %r", error)
                return
            if not still_ahead(required, self._applied):
                return
            if loop.time() >= deadline:
                log.warning("read answered before the projection caught up: %s", required)
                return
            await asyncio.sleep(POLL_S)

    async def _refresh(self) -> None:
        # Concurrent waiters share one query of the positions.
        if self._refreshing is None or self._refreshing.done():
            self._refreshing = asyncio.ensure_future(self._read_applied())
        fresh = await asyncio.shield(self._refreshing)
        for partition, offset in fresh.items():
            self._applied[partition] = max(offset, self._applied.get(partition, -1))
