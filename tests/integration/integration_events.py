"""Events appended straight to a per-test topic, for the integration library and webhook tests."""

from __future__ import annotations

import itertools
import time

from parley.domain.conversations import ConversationType
from parley.domain.events import Event, MessageSent, TextContent

_ids = itertools.count()


def text_event(conversation_key: str, text: str, event_id: str | None = None) -> Event:
    event_id = event_id or f"ev-{time.time_ns()}-{next(_ids)}"
    return Event(
        event_id=event_id,
        conversation_key=conversation_key,
        conversation_type=ConversationType.GROUP,
        actor="alice",
        server_time_ms=int(time.time() * 1000),
        payload=MessageSent(message_id=event_id, content=TextContent(text)),
    )
