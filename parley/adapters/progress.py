"""Feed progress: how far an event feed has handed the log to its sink, and who waits for it."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from parley.domain.events import Position

TopicPartition = tuple[str, int]


class FeedProgress:
    """Per-partition "next offset to hand over", with asyncio waiters resolved as it grows.

    Lives on the event loop thread: every method must be called there (feed threads hop over with
    `loop.call_soon_threadsafe`), so reading the sink's model and the progress never races.
    """

    def __init__(self) -> None:
        self._next: dict[TopicPartition, int] = {}
        self._waiters: dict[TopicPartition, list[tuple[int, asyncio.Future[None]]]] = {}
        self._targets: dict[TopicPartition, int] | None = None
        self._caught_up = asyncio.Event()
        self._failed = asyncio.Event()
        self._failure: BaseException | None = None

    def next_offset(self, topic: str, partition: int) -> int:
        return self._next.get((topic, partition), 0)

    def snapshot(self) -> dict[TopicPartition, int]:
        """Every partition's next offset handed over so far."""
        return dict(self._next)

    def advance(self, topic: str, partition: int, next_offset: int) -> None:
        """Every offset below `next_offset` of this partition has been handed to the sink."""
        key = (topic, partition)
        if next_offset <= self._next.get(key, 0):
            return
        self._next[key] = next_offset
        waiting = self._waiters.get(key)
        if waiting:
            still = []
            for offset, future in waiting:
                if offset < next_offset:
                    if not future.done():
                        future.set_result(None)
                else:
                    still.append((offset, future))
            self._waiters[key] = still
        self._check_caught_up()

    def expect(self, end_offsets: Mapping[TopicPartition, int]) -> None:
        """The end offsets at start-up: reaching them all means the feed has caught up."""
        self._targets = dict(end_offsets)
        self._check_caught_up()

    def fail(self, error: BaseException) -> None:
        """The feed stopped for good: every waiter, present and future, gets `error`."""
        self._failure = error
        self._failed.set()
        for waiting in self._waiters.values():
            for _, future in waiting:
                if not future.done():
                    future.set_exception(error)
        self._waiters.clear()

    async def wait_for(self, topic: str, partition: int, offset: int, timeout_s: float) -> None:
        """Returns once `offset` of the partition was handed over; TimeoutError otherwise."""
        if self.next_offset(topic, partition) > offset:
            return
        if self._failure is not None:
            raise self._failure
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault((topic, partition), []).append((offset, future))
        try:
            await asyncio.wait_for(asyncio.shield(future), timeout_s)
        except TimeoutError:
            raise TimeoutError(
                f"{topic}[{partition}] offset {offset} not handed over within {timeout_s} s"
            ) from None
        finally:
            waiting = self._waiters.get((topic, partition), [])
            self._waiters[(topic, partition)] = [w for w in waiting if w[1] is not future]

    async def wait_for_ends(self, ends: Mapping[TopicPartition, int], timeout_s: float) -> None:
        """Returns once every offset below each partition's end in `ends` was handed over."""
        deadline = asyncio.get_running_loop().time() + timeout_s
        for (topic, partition), end in ends.items():
            if end > 0:
                left = max(0.0, deadline - asyncio.get_running_loop().time())
                await self.wait_for(topic, partition, end - 1, left)

    async def wait_caught_up(self, timeout_s: float) -> None:
        """Returns once the end offsets given to `expect` were all handed over."""
        waits = {
            asyncio.ensure_future(self._caught_up.wait()),
            asyncio.ensure_future(self._failed.wait()),
        }
        try:
            await asyncio.wait(waits, timeout=timeout_s, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in waits:
                task.cancel()
        if self._caught_up.is_set():
            return
        if self._failure is not None:
            raise self._failure
        raise TimeoutError(f"the feed did not catch up within {timeout_s} s")

    def _check_caught_up(self) -> None:
        if self._targets is None or self._caught_up.is_set():
            return
        if all(self._next.get(key, 0) >= end for key, end in self._targets.items()):
            self._caught_up.set()


class FeedWaits:
    """The waits of an event feed that records its FeedProgress over the topics it follows:
    a position is one of the first followed topic unless `topic` names another."""

    _topics: list[str]
    _progress: FeedProgress

    async def wait_for(
        self, position: Position, timeout_s: float, topic: str | None = None
    ) -> None:
        await self._progress.wait_for(
            topic or self._topics[0], position.partition, position.offset, timeout_s
        )

    async def wait_caught_up(self, timeout_s: float) -> None:
        """Returns once everything that was in the topics at `start()` was handed to the sink."""
        await self._progress.wait_caught_up(timeout_s)
