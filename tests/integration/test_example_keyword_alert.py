"""examples/keyword_alert.py as a process on the real Kafka: alerts once per event, stops on
SIGTERM with its offsets committed, and resumes after a restart without repeating an alert."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from parley.adapters.kafka import KafkaEventLog
from tests.integration.integration_events import text_event

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_S = 30


Start = Callable[[str], Awaitable[asyncio.subprocess.Process]]


@pytest.fixture
def start_alerts(kafka_bootstrap: str, events_topic: str) -> Start:
    """Starts examples/keyword_alert.py on `events_topic` as the given consumer group."""

    async def start(group: str) -> asyncio.subprocess.Process:
        env = os.environ | {
            "PARLEY_KAFKA_BOOTSTRAP": kafka_bootstrap,
            "PARLEY_TOPIC_CONVERSATION_EVENTS": events_topic,
        }
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "examples.keyword_alert", "--keyword", "refund",
            "--keyword", "urgent", "--group", group, "--new-group-from", "earliest",
            cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip

    return start


async def _alerts(process: asyncio.subprocess.Process, count: int) -> list[dict[str, str]]:
    assert process.stdout is not None
    lines = [await asyncio.wait_for(process.stdout.readline(), TIMEOUT_S) for _ in range(count)]
    return [json.loads(line) for line in lines]


async def _stop(process: asyncio.subprocess.Process) -> list[dict[str, str]]:
    """SIGTERM, then what it printed until it exited (it must exit cleanly)."""
    process.send_signal(signal.SIGTERM)
    rest, _ = await asyncio.wait_for(process.communicate(), TIMEOUT_S)
    assert process.returncode == 0
    return [json.loads(line) for line in rest.decode().splitlines()]


async def test_keyword_alert__alerts_once_and_resumes_after_sigterm(
    event_log: KafkaEventLog, start_alerts: Start, unique_name: Callable[[str], str]
) -> None:
    group = unique_name("keyword-alert")
    # Two matching texts, one not, and a duplicate append of the first (same event id).
    first = text_event("g:support", "I want a REFUND now")
    await event_log.append_many([first, text_event("g:chat", "hello"), first])
    await event_log.append(text_event("g:support", "urgent: server down"))
    process = await start_alerts(group)
    alerts = await _alerts(process, 2)
    assert [a["keyword"] for a in alerts] == ["refund", "urgent"]
    assert alerts[0]["event_id"] == first.event_id and alerts[0]["sender"] == "alice"
    assert await _stop(process) == []  # the duplicate made no second alert
    # Restarted, the group resumes after what was handled: only the new event alerts.
    await event_log.append(text_event("g:billing", "refund please"))
    process = await start_alerts(group)
    (alert,) = await _alerts(process, 1)
    assert alert["conversation_key"] == "g:billing"
    assert await _stop(process) == []
