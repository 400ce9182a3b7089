"""Waiting on conditions and events with deadlines, never on fixed sleeps."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from parley.sdk import Event, ParleyClient

T = TypeVar("T")


async def eventually(
    probe: Callable[[], Awaitable[T]], accept: Callable[[T], bool], timeout_s: float = 60.0
) -> T:
    """Re-runs `probe` until `accept` holds for its answer (read models are eventual)."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = await probe()
        if accept(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met in {timeout_s}s; last value: {value!r}")
        await asyncio.sleep(0.2)


class Inbox:
    """Collects a client's session events in the background."""

    def __init__(self, client: ParleyClient) -> None:
        self.events: list[Event] = []
        self._arrived = asyncio.Condition()
        self._task = asyncio.create_task(self._collect(client))

    async def _collect(self, client: ParleyClient) -> None:
        async for event in client.events(device="e2e"):
            async with self._arrived:
                self.events.append(event)
                self._arrived.notify_all()

    async def wait_for(self, match: Callable[[Event], bool], timeout_s: float = 60.0) -> Event:
        async def first() -> Event:
            async with self._arrived:
                while True:
                    for event in self.events:
                        if match(event):
                            return event
                    await self._arrived.wait()

        return await asyncio.wait_for(first(), timeout_s)

    async def close(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
