"""CheckpointStore on Cassandra: a listing row per checkpoint, its payload in 1 MiB chunks."""

from __future__ import annotations

from typing import Any

from cassandra.cluster import Session

from parley.adapters.cassandra import Statements, execute_all
from parley.domain.checkpoints import Checkpoint

CHUNK_BYTES = 1024 * 1024
CHUNKS_PER_READ = 4

_CQL = {
    "chunk": "INSERT INTO fold_checkpoint_chunks (fold, checkpoint_id, chunk, data) "
    "VALUES (?, ?, ?, ?)",
    "listing": "INSERT INTO fold_checkpoints (fold, checkpoint_id, topic, positions, "
    "format_version, checksum, size_bytes, chunks) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    "ids": "SELECT checkpoint_id FROM fold_checkpoints WHERE fold = ?",
    "head": "SELECT * FROM fold_checkpoints WHERE fold = ? AND checkpoint_id = ?",
    "chunks": "SELECT chunk, data FROM fold_checkpoint_chunks "
    "WHERE fold = ? AND checkpoint_id = ? AND chunk >= ? AND chunk < ?",
    "unlist": "DELETE FROM fold_checkpoints WHERE fold = ? AND checkpoint_id = ?",
    "drop_chunks": "DELETE FROM fold_checkpoint_chunks WHERE fold = ? AND checkpoint_id = ?",
}


class CassandraCheckpointStore:
    def __init__(self, session: Session) -> None:
        self._cql = Statements(session, _CQL)

    async def save(self, checkpoint: Checkpoint) -> None:
        c, data = checkpoint, checkpoint.payload
        pieces = [data[i : i + CHUNK_BYTES] for i in range(0, len(data), CHUNK_BYTES)] or [b""]
        chunk = self._cql["chunk"]
        await execute_all(
            self._cql.session,
            ((chunk, (c.fold, c.checkpoint_id, i, piece)) for i, piece in enumerate(pieces)),
            limit=4,
        )
        # Listed last: a reader never sees a checkpoint whose chunks are not all stored.
        await self._cql.rows(
            "listing", c.fold, c.checkpoint_id, c.topic, c.positions, c.format_version,
            c.checksum, len(data), len(pieces),
        )  # fmt: skip

    async def ids(self, fold: str) -> list[int]:
        return [int(row.checkpoint_id) for row in await self._cql.rows("ids", fold)]

    async def load(self, fold: str, checkpoint_id: int) -> Checkpoint | None:
        heads = await self._cql.rows("head", fold, checkpoint_id)
        if not heads:
            return None
        head = heads[0]
        chunks: list[Any] = []
        for first in range(0, head.chunks, CHUNKS_PER_READ):  # results stay a few MiB each
            chunks += await self._cql.rows(
                "chunks", fold, checkpoint_id, first, first + CHUNKS_PER_READ
            )
        if [row.chunk for row in chunks] != list(range(head.chunks)):
            return None  # a chunk went missing: incomplete, never half-used
        return Checkpoint(
            fold,
            checkpoint_id,
            head.topic,
            {int(p): int(o) for p, o in (head.positions or {}).items()},
            head.format_version,
            head.checksum,
            b"".join(row.data or b"" for row in chunks),
        )

    async def delete(self, fold: str, checkpoint_id: int) -> None:
        await self._cql.rows("unlist", fold, checkpoint_id)
        await self._cql.rows("drop_chunks", fold, checkpoint_id)
