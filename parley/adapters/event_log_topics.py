"""What the event logs (Kafka's, the in-memory one) share: the topic of each stream, and an
append as an append_many of one event."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence

from parley.domain.events import Event, Position
from parley.domain.log_streams import Stream, stream_for


class TopicRoutedLog(ABC):
    """An event goes to its stream's topic unless the append names one; a stream's topic is its
    name unless `topics` renames it (tests give each run its own)."""

    def __init__(self, topics: Mapping[Stream, str] | None = None) -> None:
        self._topics = {stream: stream.value for stream in Stream} | dict(topics or {})

    def topic_for(self, event: Event) -> str:
        return self._topics[stream_for(event)]

    def topic_of(self, stream: Stream) -> str:
        return self._topics[stream]

    async def append(self, event: Event, topic: str | None = None) -> Position:
        (position,) = await self.append_many([event], topic)
        return position

    @abstractmethod
    async def append_many(
        self, events: Sequence[Event], topic: str | None = None
    ) -> list[Position]: ...
