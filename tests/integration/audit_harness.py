"""Harness of the audit integration tests: a logged history with known positions, the CLI run
in-process against the test's topic and keyspace."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from click.testing import CliRunner, Result

from parley.adapters.kafka import KafkaEventLog
from parley.cli import cli
from parley.domain.events import Event, Position
from tests.integration.projection_harness import ProjectionEnv
from tests.unit.domain.projection_script import Script, scripted_history


@dataclass
class Logged:
    """Events as produced, each with the position Kafka gave it."""

    events: list[Event]
    positions: list[Position]

    def of(self, key: str) -> list[tuple[Event, Position]]:
        return [(e, p) for e, p in zip(self.events, self.positions, strict=True)
                if e.conversation_key == key]  # fmt: skip

    def offset_of(self, key: str, payload_type: str, nth: int = 0) -> int:
        found = [p.offset for e, p in self.of(key) if type(e.payload).__name__ == payload_type]
        return found[nth]


def noisy_history(load: int = 300) -> Script:
    """Other conversations' traffic around the scripted history, so partitions are shared."""
    script = Script()
    for n in range(load):
        script.send(f"p:n{n % 17}:o{n % 17}", f"n{n % 17}", f"noise {n}")
    scripted_history(script)
    script.read("g:team", "dave")  # dave, unread 3 since he joined, reads the group
    for n in range(load):
        script.send(f"g:noise{n % 5}", "carol", f"more noise {n}")
    return script


async def produce(
    env: ProjectionEnv, events: Sequence[Event], logged: Logged | None = None
) -> Logged:
    """Appends as the ingress does (KafkaEventLog), keeping each event's position."""
    out = logged or Logged([], [])
    log = KafkaEventLog(env.bootstrap)
    try:
        for start in range(0, len(events), 200):
            chunk = list(events[start : start + 200])
            out.positions += await log.append_many(chunk, topic=env.topic)
            out.events += chunk
    finally:
        await log.close()
    return out


async def past(ms: int) -> None:
    """Waits until the wall clock is past `ms`, so later records get later log timestamps."""
    deadline = time.monotonic() + 5
    while time.time() * 1000 <= ms + 1:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.002)


async def run_cli(env: ProjectionEnv, *args: str) -> Result:
    """`parley ARGS` in a thread (commands run their own event loops), on the test's topic."""

    def invoke() -> Result:
        return CliRunner().invoke(cli, list(args), env=env.env(), catch_exceptions=False)

    return await asyncio.to_thread(invoke)


def jsonl(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]
