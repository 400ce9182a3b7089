"""What the in-memory folds hold per live entity and per message in their windows; one JSON line.

Folds synthetic logs into the ingress write model and the delivery fold and measures, with
tracemalloc, the bytes added per peer conversation (with its first message), per group of
--group-size members, per room member, per block and per message inside the time windows.
docs/scaling.md turns these into the point where one process's memory runs out.
"""

from __future__ import annotations

import argparse
import gc
import json
import tracemalloc
from collections.abc import Callable, Iterator
from typing import Any

from parley.domain.conversations import ConversationType
from parley.domain.delivery_fold import DeliveryFold
from parley.domain.events import (
    Event,
    GroupCreated,
    Logged,
    MessageSent,
    Payload,
    Position,
    RoomCreated,
    RoomEntered,
    TextContent,
    UserBlocked,
)
from parley.domain.write_model import WriteModel

START_MS = 1_800_000_000_000


class Log:
    def __init__(self) -> None:
        self.offset = 0

    def logged(self, key: str, type_: ConversationType, actor: str, payload: Payload) -> Logged:
        self.offset += 1
        cmid = f"c{self.offset}" if isinstance(payload, MessageSent) else ""
        event = Event(f"e{self.offset}", key, type_, actor, START_MS + self.offset, payload,
                      client_message_id=cmid)  # fmt: skip
        return Logged(event, Position(0, self.offset))


def text(log: Log, n: int) -> Payload:
    return MessageSent(f"m{log.offset}-{n}", TextContent(f"hello there {n}"))


def peers(log: Log, n: int) -> Iterator[Logged]:
    for i in range(n):
        key = f"p:a{i}:b{i}"
        yield log.logged(key, ConversationType.PEER, f"a{i}", text(log, i))


def groups(log: Log, n: int, size: int) -> Iterator[Logged]:
    for i in range(n):
        members = tuple(f"m{i}-{j}" for j in range(1, size))
        yield log.logged(f"g:g{i}", ConversationType.GROUP, f"m{i}-0",
                         GroupCreated(f"g{i}", f"group {i}", f"m{i}-0", members))  # fmt: skip


def room_members(log: Log, n: int) -> Iterator[Logged]:
    yield log.logged("r:big", ConversationType.ROOM, "host", RoomCreated("big", "big"))
    for i in range(n):
        yield log.logged("r:big", ConversationType.ROOM, f"v{i}", RoomEntered())


def blocks(log: Log, n: int) -> Iterator[Logged]:
    for i in range(n):
        yield log.logged(f"u:x{i}", ConversationType.PEER, f"x{i}", UserBlocked(f"y{i}"))


def messages(log: Log, n: int) -> Iterator[Logged]:
    """n messages in one busy group conversation, all inside the windows."""
    yield log.logged("g:busy", ConversationType.GROUP, "o",
                     GroupCreated("busy", "busy", "o", ("p", "q")))  # fmt: skip
    for i in range(n):
        yield log.logged("g:busy", ConversationType.GROUP, "o", text(log, i))


def bytes_per(
    build: Callable[[], Any], feed: Callable[[Log, int], Iterator[Logged]], n: int
) -> int:
    """Bytes the fold grows by per unit of `feed` (n units, minus the fold's empty size)."""
    log = Log()
    events = list(feed(log, n))
    gc.collect()
    tracemalloc.start()
    fold = build()
    before = tracemalloc.get_traced_memory()[0]
    for logged in events:
        fold.apply(logged)
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return round((after - before) / n)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.memory")
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--group-size", type=int, default=8)
    args = parser.parse_args()
    n, size = args.n, args.group_size
    units: dict[str, Callable[[Log, int], Iterator[Logged]]] = {
        "peer_conversation": peers,
        f"group_of_{size}": lambda log, k: groups(log, k, size),
        "room_member": room_members,
        "block": blocks,
        "message_in_window": messages,
    }
    result = {
        fold_name: {unit: bytes_per(build, feed, n) for unit, feed in units.items()}
        for fold_name, build in (("write_model", WriteModel), ("delivery", DeliveryFold))
    }
    print(json.dumps({"bench": "memory", "n": n, "bytes_per": result}))


if __name__ == "__main__":
    main()
