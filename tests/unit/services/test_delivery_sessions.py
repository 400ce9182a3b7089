"""Session outbox writes: one frame per stream message, or queued frames batched when asked."""

from __future__ import annotations

from parley.adapters.wire_delivery import go_away_frame, pong_frame, synced_frame
from parley.gen.parley.v1 import delivery_pb2 as pb
from services.delivery.sessions import MAX_BATCH_BYTES, Session


async def live(max_batch: int = 1) -> Session:
    """A session past its gap fill, its Synced frame written."""
    session = Session("s", "u", 0, max_batch)
    session.end_fill(synced_frame({}))
    assert await session.next_write() == synced_frame({})
    return session


def frames(count: int) -> list[bytes]:
    return [pong_frame(n, n) for n in range(count)]


def written(data: bytes) -> list[bytes]:
    """The frames one stream message carries, taken apart as a client does."""
    frame = pb.ServerFrame.FromString(data)
    if frame.WhichOneof("frame") != "batch":
        return [data]
    return [inner.SerializeToString() for inner in frame.batch.frames]


async def drain(session: Session) -> list[bytes]:
    """Every write until the outbox is empty."""
    writes = []
    while session._queued_bytes:
        data = await session.next_write()
        assert data is not None
        writes.append(data)
    return writes


async def test_session__without_batches_each_frame_is_its_own_write() -> None:
    session = await live()
    for frame in frames(5):
        session.push(frame)
    assert await drain(session) == frames(5)


async def test_session__queued_frames_are_written_as_batches_of_at_most_max_batch() -> None:
    session = await live(max_batch=3)
    for frame in frames(5):
        session.push(frame)
    writes = await drain(session)
    assert [len(written(w)) for w in writes] == [3, 2]
    assert [f for w in writes for f in written(w)] == frames(5)
    assert session._queued_bytes == 0


async def test_session__a_lone_frame_is_not_wrapped() -> None:
    session = await live(max_batch=64)
    session.push(frames(1)[0])
    assert await session.next_write() == frames(1)[0]


async def test_session__a_batch_stops_growing_past_its_byte_budget() -> None:
    session = await live(max_batch=64)
    big = go_away_frame("x" * 10_000)
    count = MAX_BATCH_BYTES // len(big) + 10
    for _ in range(count):
        session.push(big)
    first = written(await session.next_write() or b"")
    assert 1 < len(first) < count
    assert sum(len(f) for f in first) < MAX_BATCH_BYTES + len(big)
    rest = [f for w in await drain(session) for f in written(w)]
    assert len(first) + len(rest) == count
