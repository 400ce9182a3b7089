"""The message archive on Cassandra: MessageArchive over messages_by_id (written by the
projector, infra/cassandra/0005_messages_by_id.cql), its reads coalesced under load."""

from __future__ import annotations

import asyncio
from collections.abc import Collection

from cassandra.cluster import Session

from parley.adapters.cassandra import execute
from parley.adapters.message_archive_rows import from_row
from parley.domain.message_archive import ArchivedMessage

# Requests out at once; ids asked for meanwhile wait and go together in the next one.
MAX_IN_FLIGHT = 2
BATCH_IDS = 32  # ids per request: a multi-partition IN its coordinator fans out, kept small

_GET = (
    "SELECT message_id, conversation_key, seq, sender_id, sent_at_ms, order_key, masked, "
    "recalled, content_digest, fingerprint FROM messages_by_id WHERE message_id IN ?"
)


class CassandraMessageArchive:
    """Every send the ledger does not know reads one id here, so reads are coalesced: the
    driver spends ~0.3 ms of the event loop's CPU per request, whatever its size, which at
    hundreds of sends a second per process is what it can least afford. While MAX_IN_FLIGHT
    requests are out, the ids asked for wait and go together in the next request (at most
    BATCH_IDS): an idle process sends each at once, a busy one shares requests."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._get = session.prepare(_GET)
        self._waiting: dict[str, list[asyncio.Future[ArchivedMessage | None]]] = {}
        self._in_flight = 0
        self._fetching: set[asyncio.Task[None]] = set()  # referenced until done

    async def get_many(self, message_ids: Collection[str]) -> dict[str, ArchivedMessage]:
        loop = asyncio.get_running_loop()
        asked: dict[str, asyncio.Future[ArchivedMessage | None]] = {}
        for message_id in message_ids:
            if message_id not in asked:
                asked[message_id] = loop.create_future()
                self._waiting.setdefault(message_id, []).append(asked[message_id])
        self._pump()
        # Each caller waits on its own futures: cancelling one caller cancels no other.
        found = await asyncio.gather(*asked.values())
        return {m: a for m, a in zip(asked, found, strict=True) if a is not None}

    def _pump(self) -> None:
        while self._waiting and self._in_flight < MAX_IN_FLIGHT:
            ids = list(self._waiting)[:BATCH_IDS]
            batch = {message_id: self._waiting.pop(message_id) for message_id in ids}
            self._in_flight += 1
            task = asyncio.get_running_loop().create_task(self._fetch(batch))
            self._fetching.add(task)
            task.add_done_callback(self._fetching.discard)

    async def _fetch(self, batch: dict[str, list[asyncio.Future[ArchivedMessage | None]]]) -> None:
        try:
            rows = await execute(self._session, self._get, (list(batch),))
        except Exception as error:
            for futures in batch.values():
                for future in futures:
                    if not future.done():
                        future.set_exception(error)
                        future.exception()  # retrieved: a cancelled caller's is not reported
        else:
            # A row made by a recall's UPDATE alone (its send never projected) is no message.
            by_id = {r.message_id: from_row(r) for r in rows if r.conversation_key is not None}
            for message_id, futures in batch.items():
                for future in futures:
                    if not future.done():
                        future.set_result(by_id.get(message_id))
        finally:
            self._in_flight -= 1
            self._pump()
