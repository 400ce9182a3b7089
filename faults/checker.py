"""The history checker: what the clients recorded against what the system holds afterwards.

Lost: a send answered with a message id that is not in its conversation's history. Duplicated:
one client message id stored under more than one message (or one message id stored twice), or
one message handed twice to a user's sessions. Seq gaps: a conversation whose seqs are not
exactly 1..N. Projection diffs: rows of the live read models that differ from a replay of the
log into a fresh keyspace (`parley replay` and `parley audit diff`), which also covers unread
counts and mentions. Undelivered: a stored peer or group message a member's session never got."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field

from faults.load import Load
from parley.adapters.cassandra import connect
from parley.config import Settings
from parley.sdk.types import Conversation, Message
from streams.lag import projection_lag

_DIFFER = re.compile(r"([\d,]+) rows differ")


@dataclass
class Holdings:
    """What the system holds: every stored message of each conversation, by key."""

    history: dict[str, list[Message]] = field(default_factory=dict)

    def seq_gaps(self) -> int:
        """Missing or repeated seqs, summed over conversations."""
        gaps = 0
        for messages in self.history.values():
            seqs = Counter(m.seq for m in messages)
            top = max(seqs, default=0)
            gaps += sum(1 for seq in range(1, top + 1) if seq not in seqs)
            gaps += sum(count - 1 for count in seqs.values())
        return gaps


async def wait_projected(settings: Settings, timeout_s: float = 180.0) -> float:
    """Seconds until the projector has applied the whole conversation log."""
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        try:
            lag = await asyncio.to_thread(projection_lag, settings)
            if all(p.lag == 0 for p in lag):
                return time.monotonic() - started
        except Exception:  # an engine still recovering: ask again
            pass
        await asyncio.sleep(0.5)
    raise TimeoutError(f"projection not caught up after {timeout_s:.0f}s")


def conversations(load: Load) -> list[tuple[str, Conversation]]:
    """(reader, conversation) for every conversation the load can have written to."""
    first = load.users[0]
    found = [(first, Conversation.group(load.group)), (first, Conversation.room(load.room))]
    for i, a in enumerate(load.users):
        found += [(a, Conversation.peer(b)) for b in load.users[i + 1 :]]
    return found


async def read_holdings(load: Load) -> Holdings:
    holdings = Holdings()
    for reader, conversation in conversations(load):
        client = load.clients[reader]
        messages = [m async for m in client.history_after(conversation, 0)]
        holdings.history[conversation.key(reader)] = messages
    return holdings


def lost_and_duplicated(load: Load, holdings: Holdings, fault: str) -> tuple[int, int, int]:
    """(acked, lost, duplicated in history) of the sends made during `fault`."""
    stored = Counter(m.message_id for ms in holdings.history.values() for m in ms)
    by_cmid = Counter(
        text.split()[-1]
        for ms in holdings.history.values()
        for m in ms
        if (text := getattr(m.body, "text", ""))
    )
    acked = load.record.acked(fault)
    lost = sum(1 for s in acked if stored[s.message_id] == 0)
    duplicated = sum(
        1 for s in acked if stored[s.message_id] > 1 or by_cmid[s.client_message_id] > 1
    )
    return len(acked), lost, duplicated


def delivery_faults(load: Load, holdings: Holdings) -> tuple[int, int]:
    """(messages a session got twice, stored peer/group messages a member never got)."""
    duplicated = sum(
        count - 1
        for got in load.record.received.values()
        for count in Counter(message_id for _, _, message_id in got).values()
    )
    undelivered = 0
    for user, got in load.record.received.items():
        seen = {message_id for _, _, message_id in got}
        for key, messages in holdings.history.items():
            if key.startswith("r:") or (key.startswith("p:") and user not in key.split(":")):
                continue
            undelivered += sum(
                1 for m in messages if m.sender_id != user and m.message_id not in seen
            )
    return duplicated, undelivered


async def wait_delivered(load: Load, holdings: Holdings, timeout_s: float = 30.0) -> None:
    """Gives sessions time to receive what is stored (they may be reconnecting)."""
    for _ in range(int(timeout_s / 0.5)):
        if not delivery_faults(load, holdings)[1]:
            return
        await asyncio.sleep(0.5)


def projection_diffs(settings: Settings, env: dict[str, str]) -> int:
    """Rows differing between the live keyspace and a replay of the log into a new one."""
    replayed = f"{settings.cassandra_keyspace}_r{int(time.time()) % 100000}"
    parley = [sys.executable, "-m", "parley.cli"]
    subprocess.run([*parley, "replay", "--into", replayed, "--json", "--no-progress"],
                   env=env, check=True, capture_output=True)  # fmt: skip
    result = subprocess.run(
        [*parley, "audit", "diff", settings.cassandra_keyspace, replayed, "--limit", "20"],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    cluster, session = connect(settings.cassandra_hosts, settings.cassandra_port)
    try:
        session.execute(f"DROP KEYSPACE IF EXISTS {replayed}", timeout=60)
    finally:
        cluster.shutdown()
    match = _DIFFER.search(result.stdout + result.stderr)
    if match is None:
        raise RuntimeError(f"parley audit diff said nothing countable: {result.stderr[-2000:]}")
    if int(match[1].replace(",", "")):
        log_dir = os.environ.get("PARLEY_FAULTS_LOG", "var/faults")
        with open(f"{log_dir}/diff-{replayed}.txt", "w") as out:
            out.write(result.stdout)
    return int(match[1].replace(",", ""))
