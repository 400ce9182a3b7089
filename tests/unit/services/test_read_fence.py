"""The read fence: a read waits until the projection covers what it must see, within bounds."""

from __future__ import annotations

import asyncio
import time

from parley.domain.conversations import ConversationType
from parley.domain.events import Event, MessageSent, Position, TextContent
from parley.domain.read_your_writes import WrittenPositions
from services.query.fence import ReadFence


def written(key: str, actor: str, offset: int) -> WrittenPositions:
    positions = WrittenPositions()
    event = Event("e", key, ConversationType.PEER, actor, 1, MessageSent("m", TextContent("x")))
    positions.note(event, Position(2, offset))
    return positions


async def test_read_fence__waits_until_the_projector_has_applied_the_caller_s_write() -> None:
    applied = {2: 3}

    async def read_applied() -> dict[int, int]:
        return dict(applied)

    fence = ReadFence(written("p:a:b", "a", 7), read_applied, timeout_s=5)
    waiting = asyncio.ensure_future(fence.user("a"))
    await asyncio.sleep(0.1)
    assert not waiting.done()  # offset 7 is not applied yet
    applied[2] = 7
    await asyncio.wait_for(waiting, 2)
    await asyncio.wait_for(fence.conversation("p:a:b"), 0.1)  # cached: no wait


async def test_read_fence__answers_after_its_timeout_or_when_positions_cannot_be_read() -> None:
    async def never() -> dict[int, int]:
        return {}

    started = time.monotonic()
    await ReadFence(written("p:a:b", "a", 1), never, timeout_s=0.2).user("a")
    assert 0.2 <= time.monotonic() - started < 1.0

    async def broken() -> dict[int, int]:
        raise ConnectionError("cassandra is down")

    await asyncio.wait_for(ReadFence(written("p:a:b", "a", 1), broken).user("a"), 1)
    # Nothing written by the caller: nothing to wait for, no read at all.
    await asyncio.wait_for(ReadFence(WrittenPositions(), broken).user("z"), 0.1)
