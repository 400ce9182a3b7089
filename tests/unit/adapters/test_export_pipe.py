"""The pipe a streamed export upload reads from: every byte in order, bounded, and stoppable."""

from __future__ import annotations

import threading

import pytest

from parley.adapters.minio_exports import Pipe, PipeStopped


def _read_all(pipe: Pipe, size: int, into: list[bytes]) -> None:
    while chunk := pipe.read(size):
        into.append(chunk)


@pytest.mark.parametrize("read_size", [1000, 4096, 65_536, -1])
def test_pipe__reader_gets_every_byte_in_order(read_size: int) -> None:
    pipe = Pipe(capacity=16_384, block=1024)
    lines = [f"record {i}\n".encode() * (i % 7 + 1) for i in range(5000)]
    got: list[bytes] = []
    reader = threading.Thread(target=_read_all, args=(pipe, read_size, got))
    reader.start()
    for line in lines:
        pipe.write(line)
    pipe.close()
    reader.join(10)

    assert b"".join(got) == b"".join(lines)
    if 0 < read_size <= 16_384:  # full reads until the last: parts of the size minio asks
        assert all(len(chunk) == read_size for chunk in got[:-1])


def test_pipe__writer_waits_while_the_reader_is_behind() -> None:
    pipe = Pipe(capacity=4096, block=1024)
    for _ in range(4):
        pipe.write(b"x" * 1024)  # capacity reached: the next hand-over must wait
    wrote = threading.Event()

    def write_more() -> None:
        pipe.write(b"y" * 1024)
        wrote.set()

    writer = threading.Thread(target=write_more)
    writer.start()
    assert not wrote.wait(0.2)
    assert pipe.read(2048) == b"x" * 2048
    assert wrote.wait(5)
    writer.join(5)


def test_pipe__a_stop_fails_the_other_side() -> None:
    pipe = Pipe(capacity=1024, block=512)
    pipe.write(b"a" * 512)
    pipe.stop()
    with pytest.raises(PipeStopped):
        pipe.read(100)
    with pytest.raises(PipeStopped):
        pipe.write(b"b" * 2048)
