"""Routing from the log to this node's sessions: fold, ask the fold who receives the event,
encode once, fan out to session outboxes."""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass

from parley import metrics
from parley.adapters.kafka_records import Record
from parley.adapters.wire import UndecodableEvent, decode_event
from parley.adapters.wire_delivery import (
    broadcast_frame,
    message_frame,
    recall_frame,
    tip_frame,
    update_frame,
)
from parley.domain.delivery_fold import TIPS, DeliveryFold
from parley.domain.events import BroadcastSent, Event, Logged, MessageRecalled, MessageSent
from parley.domain.log_streams import is_droppable
from parley.domain.read_models import HistoryRow
from services.delivery.sessions import SessionRegistry

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TailTopics:
    signals: str
    broadcasts: str
    user_updates: str


# Children bound once: a fan-out to thousands of sessions adds to its counter once.
_PUSHED = {
    kind: metrics.PUSHES.labels(kind=kind)
    for kind in ("message", "command", "barrage", "recall", "tip", "update", "broadcast")
}


class Router:
    """A LoggedSink for `parley.conversation-events` (folded from offset 0, pushed live) and a
    record sink for the live-only signals, broadcasts and user-updates topics.

    Runs on the event loop thread only, so folding and routing never race with a session
    registering: a session sees every event folded after it registered, live.
    """

    def __init__(self, fold: DeliveryFold, registry: SessionRegistry, topics: TailTopics) -> None:
        self.fold = fold
        self.registry = registry
        self.topics = topics

    # --- conversation events -----------------------------------------------------------------

    def apply(self, logged: Logged) -> None:
        projected, before = self.fold.apply(logged)
        metrics.EVENTS_FOLDED.inc()
        if not self.registry.count:
            return
        event, payload = logged.event, logged.event.payload
        recipients = self.fold.recipients_of(event, before)
        if not recipients:
            return
        offset = logged.position.offset
        if isinstance(payload, MessageSent):
            row = next((w for w in projected.writes if isinstance(w, HistoryRow)), None)
            if row is not None:  # None: a duplicate append of the same send, pushed already
                frame = message_frame(
                    row, event.conversation_type, order_key=offset,
                    client_message_id=event.client_message_id,
                )  # fmt: skip
                self._fan_out(recipients, frame, "message", event.conversation_key, row.seq)
        elif isinstance(payload, MessageRecalled):
            seq = self.fold.seq_of(event.conversation_key, payload.message_id)
            frame = recall_frame(event, payload.message_id, seq, offset)
            self._fan_out(recipients, frame, "recall")
        elif isinstance(payload, TIPS):
            self._fan_out(recipients, tip_frame(event), "tip")

    # --- live-only topics --------------------------------------------------------------------

    def on_records(self, records: list[Record]) -> None:
        for record in records:
            if record.topic == self.topics.user_updates:
                user = record.key.decode()
                sessions, frame = self.registry.of(user), update_frame(record.value)
                for session in sessions:
                    session.push(frame)
                _PUSHED["update"].inc(len(sessions))
                continue
            try:
                event = decode_event(record.value)
            except UndecodableEvent:
                log.exception("skipped an undecodable record on %s", record.topic)
                continue
            if isinstance(event.payload, BroadcastSent):
                self._broadcast(event)
            elif isinstance(event.payload, MessageSent):
                self._signal(event, event.payload, record.offset)

    def _signal(self, event: Event, payload: MessageSent, offset: int) -> None:
        """Command and barrage: online recipients only, never stored, seq 0."""
        recipients = self.fold.recipients_of(event)
        if not recipients:
            return
        row = HistoryRow.of_sent(event, payload, 0, offset)
        frame = message_frame(row, event.conversation_type, order_key=offset,
                              client_message_id=event.client_message_id)  # fmt: skip
        droppable = is_droppable(event)
        self._fan_out(recipients, frame, "barrage" if droppable else "command", droppable=droppable)

    def _broadcast(self, event: Event) -> None:
        frame = broadcast_frame(event)
        pushes = 0
        for session in self.registry.all():
            session.push(frame)
            pushes += 1
        _PUSHED["broadcast"].inc(pushes)

    def _fan_out(
        self,
        members: Collection[str],
        frame: bytes,
        kind: str,
        key: str = "",
        seq: int = 0,
        droppable: bool = False,
    ) -> None:
        """One encoded frame to every local session of every member. A large room with few
        members on this node is walked by the node's users instead of by its members."""
        registry = self.registry
        users = members if len(members) <= registry.user_count else [
            user for user in registry.users() if user in members
        ]  # fmt: skip
        pushes = 0
        for user in users:
            for session in registry.of(user):
                session.push(frame, key, seq, droppable)
                pushes += 1
        _PUSHED[kind].inc(pushes)
