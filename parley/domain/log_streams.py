"""The named streams of the log, and which stream each event travels on."""

from __future__ import annotations

from enum import StrEnum

from parley.domain.events import BroadcastSent, Event, MessageSent, MessageType


class Stream(StrEnum):
    """Kafka topics, named after the stream, never after a consumer."""

    CONVERSATION_EVENTS = "parley.conversation-events"  # durable, keyed by conversation key
    SIGNALS = "parley.signals"  # command and barrage messages, short retention, never stored
    USER_UPDATES = "parley.user-updates"  # per-user notifications from the projectors
    BROADCASTS = "parley.broadcasts"  # server broadcasts to every online user


_EPHEMERAL = frozenset({MessageType.COMMAND, MessageType.BARRAGE})


def is_stored(event: Event) -> bool:
    """Command and barrage messages are never stored (DESIGN decision 3)."""
    payload = event.payload
    return not (isinstance(payload, MessageSent) and payload.type in _EPHEMERAL)


def is_droppable(event: Event) -> bool:
    """Barrage may be dropped under load; command may not while the recipient is online
    (DESIGN decision 3)."""
    payload = event.payload
    return isinstance(payload, MessageSent) and payload.type is MessageType.BARRAGE


def stream_for(event: Event) -> Stream:
    if isinstance(event.payload, BroadcastSent):
        return Stream.BROADCASTS
    return Stream.CONVERSATION_EVENTS if is_stored(event) else Stream.SIGNALS
