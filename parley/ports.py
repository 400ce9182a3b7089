"""Ports: the Protocols the domain and services need from the outside, with their contracts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from parley.domain.events import Event, Logged, Position


class EventLogUnavailable(Exception):
    """The log did not acknowledge an append in time: nothing may be reported as accepted."""


class EventLog(Protocol):
    """The durable, ordered event log (Kafka in production).

    Contract:
    - `append` returns only once the log has durably acknowledged the event (acks=all); it raises
      EventLogUnavailable otherwise, and then the caller must not report success.
    - Events with the same conversation key are stored in one partition, in append order; the
      returned Position's offset grows with every later append to that conversation.
    - Appending is not idempotent by itself: duplicates are recognised by event id downstream.
    - `append_many` keeps the order of the given events within each conversation key.
    """

    async def append(self, event: Event, topic: str | None = None) -> Position: ...

    async def append_many(
        self, events: Sequence[Event], topic: str | None = None
    ) -> list[Position]: ...

    async def close(self) -> None: ...


class EventFeed(Protocol):
    """Follows the log from the beginning and hands every event, in order per partition, to a sink.

    Contract: at-least-once per process lifetime, in log order within each partition;
    `wait_for(position)` returns once every event up to and including `position` was handed over
    (read-your-writes for the process that appended it), or raises TimeoutError.
    """

    async def wait_for(self, position: Position, timeout_s: float) -> None: ...

    async def close(self) -> None: ...


class WordMatcher(Protocol):
    """Finds occurrences of a fixed word list in text (a multi-pattern matcher).

    Contract: returns (start, end) character spans of every match, end exclusive, in order of
    start; case-insensitive.
    """

    def find(self, text: str) -> list[tuple[int, int]]: ...


class LoggedSink(Protocol):
    """Receives logged events in log order (per partition)."""

    def apply(self, logged: Logged) -> None: ...
