"""Where an integration consumer starts reading: earliest, latest, committed, or a moment."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from confluent_kafka import OFFSET_BEGINNING, OFFSET_END, OFFSET_STORED

Kind = Literal["earliest", "latest", "committed", "time"]


@dataclass(frozen=True)
class StartAt:
    """Applies to each partition the first time this process is assigned it; partitions that
    move to it later in a rebalance resume from the group's committed offset, so a restart or
    rebalance never rewinds a consumer that asked for `earliest`.

    `committed` resumes where the group left off, and where it has no committed offset starts
    at `fallback` (a new group)."""

    kind: Kind
    time_ms: int = 0
    fallback: Literal["earliest", "latest"] = "earliest"

    @classmethod
    def earliest(cls) -> StartAt:
        """The oldest record kept (conversation events: the whole log)."""
        return cls("earliest")

    @classmethod
    def latest(cls) -> StartAt:
        """Only records appended after the partition is assigned."""
        return cls("latest")

    @classmethod
    def committed(cls, fallback: Literal["earliest", "latest"] = "earliest") -> StartAt:
        return cls("committed", fallback=fallback)

    @classmethod
    def time(cls, time_ms: int) -> StartAt:
        """The first record Kafka timestamped at or after `time_ms` (ms since the epoch)."""
        return cls("time", time_ms=time_ms)

    def offset_code(self) -> int:
        """librdkafka's logical offset for the kinds that need no lookup."""
        return {
            "earliest": OFFSET_BEGINNING,
            "latest": OFFSET_END,
            "committed": OFFSET_STORED,
        }[self.kind]
