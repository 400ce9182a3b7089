"""Sessions: one connected device stream each, with its bounded outbox, and the registry of them."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

import grpc

from parley import metrics
from parley.adapters.wire_delivery import batch_frame, resync_frame

# Bytes an outbox may hold before its session counts as too slow. Barrage is dropped from half
# of it on, so room chatter cannot crowd out stored messages.
MAX_QUEUED_BYTES = 1 << 20
# A batch write stops adding frames past this many bytes, so one write stays a modest message.
MAX_BATCH_BYTES = 64 << 10


@dataclass(frozen=True, slots=True)
class CloseReason:
    """Why the server ends a session: the status, its message and a last frame if any."""

    code: grpc.StatusCode
    message: str
    frame: bytes = b""
    resync: bool = False
    trailers: tuple[tuple[str, str | bytes], ...] = ()


class Session:
    """A device session's state on this node. Everything runs on the event loop thread.

    `seqs` is the highest seq per conversation already queued for the client (or held by it):
    a message at or below it is a duplicate and is dropped, which is how the gap fill and the
    live frames held back meanwhile meet without duplicates.
    """

    __slots__ = (
        "_pending",
        "_queue",
        "_queued_bytes",
        "_space",
        "_wake",
        "close_reason",
        "expires_at_ms",
        "max_batch",
        "seqs",
        "session_id",
        "task",
        "timers",
        "user_id",
    )  # fmt: skip

    def __init__(
        self, session_id: str, user_id: str, expires_at_ms: int, max_batch: int = 1
    ) -> None:
        self.session_id = session_id
        self.user_id = user_id
        self.expires_at_ms = expires_at_ms
        self.max_batch = max(1, max_batch)
        self.seqs: dict[str, int] = {}
        self.task: asyncio.Task[object] | None = None
        self.timers: list[asyncio.TimerHandle] = []
        self.close_reason: CloseReason | None = None
        self._queue: deque[bytes] = deque()
        self._queued_bytes = 0
        # Live frames held back while the gap is filled: (conversation key, seq, frame, droppable).
        self._pending: list[tuple[str, int, bytes, bool]] | None = []
        # The writer's wait for a frame, and put_filled's for outbox space: plain futures, as
        # an asyncio.Event would cost every idle session a deque (~0.5 KB).
        self._wake: asyncio.Future[None] | None = None
        self._space: asyncio.Future[None] | None = None

    def push(self, frame: bytes, key: str = "", seq: int = 0, droppable: bool = False) -> None:
        """Queues a live frame; `seq` > 0 marks a stored message of conversation `key`."""
        if self.close_reason is not None:
            return
        if self._pending is not None:
            self._pending.append((key, seq, frame, droppable))
            self._queued_bytes += len(frame)
            if self._queued_bytes > MAX_QUEUED_BYTES:
                self.overflow()
            return
        self._enqueue(frame, key, seq, droppable)

    def _enqueue(self, frame: bytes, key: str, seq: int, droppable: bool) -> None:
        if seq:
            if seq <= self.seqs.get(key, 0):
                return
            self.seqs[key] = seq
        size = len(frame)
        if droppable and self._queued_bytes + size > MAX_QUEUED_BYTES // 2:
            return
        if self._queued_bytes + size > MAX_QUEUED_BYTES:
            self.overflow()
            return
        self._queue.append(frame)
        self._queued_bytes += size
        _resolve(self._wake)

    async def put_filled(self, frame: bytes, key: str, seq: int) -> None:
        """Queues a gap-fill frame (seq > 0: a message), waiting while the outbox is full."""
        while self._queued_bytes > MAX_QUEUED_BYTES // 2 and self.close_reason is None:
            self._space = asyncio.get_running_loop().create_future()
            await self._space
        if self.close_reason is not None:
            return
        if seq:
            if seq <= self.seqs.get(key, 0):
                return
            self.seqs[key] = seq
        self._queue.append(frame)
        self._queued_bytes += len(frame)
        _resolve(self._wake)

    def end_fill(self, synced: bytes) -> None:
        """Releases the held-back live frames behind the filled ones, dropping duplicates."""
        pending, self._pending = self._pending or [], None
        self._queued_bytes -= sum(len(item[2]) for item in pending)
        for key, seq, frame, droppable in pending:
            self._enqueue(frame, key, seq, droppable)
        self._enqueue(synced, "", 0, False)

    async def next_write(self) -> bytes | None:
        """The next stream message: the next frame, or up to `max_batch` queued frames as one
        batch frame; None once the session is closed and drained."""
        queue = self._queue
        while not queue:
            if self.close_reason is not None:
                return None
            self._wake = asyncio.get_running_loop().create_future()
            await self._wake
        frame = queue.popleft()
        size = len(frame)
        if self.max_batch > 1 and queue:
            frames = [frame]
            while queue and len(frames) < self.max_batch and size < MAX_BATCH_BYTES:
                frames.append(queue.popleft())
                size += len(frames[-1])
            if len(frames) > 1:
                frame = batch_frame(frames)
        self._queued_bytes -= size
        _resolve(self._space)
        return frame

    def close(self, reason: CloseReason) -> None:
        """Ends the session: queued frames are discarded, then the reason's frame is written."""
        if self.close_reason is not None:
            return
        self.close_reason = reason
        self._queue.clear()
        self._queued_bytes = 0
        if reason.frame:
            self._queue.append(reason.frame)
        _resolve(self._wake)
        _resolve(self._space)
        for timer in self.timers:
            timer.cancel()

    def overflow(self) -> None:
        """The client does not read fast enough: cut it off so memory stays bounded. Its writer
        may be blocked in an HTTP/2 flow-control wait, so it is cancelled, not just woken."""
        if self.close_reason is None:
            metrics.SLOW_SESSIONS.inc()
        self.close(
            CloseReason(
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                "the session fell behind: reconnect and resume from your positions",
                resync_frame("slow consumer"),
                resync=True,
            )
        )
        if self.task is not None:  # set only while a write is in flight
            self.task.cancel()


def _resolve(waiter: asyncio.Future[None] | None) -> None:
    if waiter is not None and not waiter.done():
        waiter.set_result(None)


class SessionRegistry:
    """The sessions this node holds, by user."""

    def __init__(self) -> None:
        self._by_user: dict[str, list[Session]] = {}
        self.count = 0

    def add(self, session: Session) -> bool:
        """Registers a session; True when it is the user's first on this node."""
        sessions = self._by_user.setdefault(session.user_id, [])
        sessions.append(session)
        self.count += 1
        metrics.SESSIONS.inc()
        return len(sessions) == 1

    def remove(self, session: Session) -> bool:
        """Unregisters a session; True when it was the user's last on this node."""
        sessions = self._by_user.get(session.user_id)
        if sessions is None or session not in sessions:
            return False
        sessions.remove(session)
        self.count -= 1
        metrics.SESSIONS.dec()
        if sessions:
            return False
        del self._by_user[session.user_id]
        return True

    def of(self, user_id: str) -> list[Session]:
        return self._by_user.get(user_id, [])

    def is_online(self, user_id: str) -> bool:
        return user_id in self._by_user

    @property
    def user_count(self) -> int:
        return len(self._by_user)

    def users(self) -> Iterator[str]:
        return iter(list(self._by_user))

    def all(self) -> Iterator[Session]:
        for sessions in list(self._by_user.values()):
            yield from list(sessions)
