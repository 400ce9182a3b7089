"""An in-memory CheckpointStore for unit tests (the contract suite runs it beside Cassandra's)."""

from __future__ import annotations

from dataclasses import replace

from parley.domain.checkpoints import Checkpoint


class InMemoryCheckpointStore:
    def __init__(self) -> None:
        self._stored: dict[tuple[str, int], Checkpoint] = {}

    async def save(self, checkpoint: Checkpoint) -> None:
        self._stored[(checkpoint.fold, checkpoint.checkpoint_id)] = checkpoint

    async def ids(self, fold: str) -> list[int]:
        return sorted((cid for f, cid in self._stored if f == fold), reverse=True)

    async def load(self, fold: str, checkpoint_id: int) -> Checkpoint | None:
        return self._stored.get((fold, checkpoint_id))

    async def delete(self, fold: str, checkpoint_id: int) -> None:
        self._stored.pop((fold, checkpoint_id), None)

    def corrupt(self, fold: str, checkpoint_id: int, payload: bytes) -> None:
        """Replaces a stored payload, as a bad disk or a hand edit would (tests only)."""
        key = (fold, checkpoint_id)
        self._stored[key] = replace(self._stored[key], payload=payload)
