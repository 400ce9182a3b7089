"""The replay loop: batches from the backlog go to the projector in order; progress counts all."""

from __future__ import annotations

from typing import Any

from parley.domain.events import Logged
from streams.replay import _fold
from tests.unit.domain.projection_script import scripted_history


class Backlog:
    def __init__(self, chunks: list[list[Logged]], undecodable_after: list[int]) -> None:
        self._chunks, self._undecodable = chunks, undecodable_after
        self.undecodable = 0

    async def take(self, limit: int) -> list[Logged] | None:
        if not self._chunks:
            return None
        self.undecodable = self._undecodable.pop(0)
        return self._chunks.pop(0)


class Recorder:
    def __init__(self) -> None:
        self.applied: list[Logged] = []

    async def apply(self, batch: list[Logged]) -> Any:
        self.applied += batch
        return len(batch)


async def test_replay__applies_every_batch_in_order_and_counts_skipped_records() -> None:
    logged = scripted_history().logged
    backlog = Backlog([logged[:10], logged[10:]], undecodable_after=[2, 3])
    projector, progress = Recorder(), list[int]()

    events = await _fold(projector, backlog, progress.append)  # type: ignore[arg-type]

    assert projector.applied == logged and events == len(logged)
    assert progress == [12, len(logged) - 10 + 1]  # 2 skipped in the first, 1 more later
