"""Delivered receipts: the client's acks become MessageDelivered events on the log, coalesced."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from parley.domain.acks import AckKind, decide_ack, keeps_receipts
from parley.domain.commands import Stamp
from parley.domain.conversations import Conversation, ConversationType
from parley.domain.errors import Rejected
from parley.domain.events import Event
from parley.domain.message_archive import NO_ARCHIVED_MESSAGES, ArchivedMessages
from parley.domain.write_model import WriteModel
from parley.message_lookup import MessageLookup
from parley.ports import EventLog, EventLogUnavailable, MessageArchive
from services.shell.clock import new_id, wall_clock_ms

log = logging.getLogger(__name__)

FLUSH_INTERVAL_S = 0.1


def _acked(key: str) -> Conversation | None:
    """The conversation a session's ack names, when it is one that keeps receipts."""
    conversation = Conversation.from_key(key)
    if conversation is None or not keeps_receipts(conversation.type):
        return None
    return conversation


class DeliveredAcks:
    """Collects acks for FLUSH_INTERVAL_S and logs only the newest per user and conversation.

    A peer's delivered position is a high-water mark (the projector moves delivered_seq to the
    acked message's seq), so the newest ack of a window says everything the older ones did,
    and a busy conversation costs one event per window instead of one per message. Acks are
    decided by the ingress's own rule (parley.domain.acks.decide_ack) against this node's fold,
    and against `archive` for messages older than its window (a resumed client acking them).
    """

    def __init__(
        self, model: WriteModel, event_log: EventLog, archive: MessageArchive | None = None
    ) -> None:
        self._model = model
        self._lookup = MessageLookup(archive, model)
        self._log = event_log
        self._pending: dict[tuple[str, Conversation], str] = {}
        self._flusher: asyncio.Task[None] | None = None
        self.logged = 0

    def add(self, user_id: str, key: str, message_id: str) -> None:
        conversation = _acked(key)
        if conversation is None:
            return  # a room's (or no conversation's): nothing to log, nothing to look up
        self._pending[(user_id, conversation)] = message_id
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.get_running_loop().create_task(self._flush_later())

    async def _flush_later(self) -> None:
        await asyncio.sleep(FLUSH_INTERVAL_S)  # the coalescing window
        await self.flush()

    async def flush(self) -> None:
        pending, self._pending = self._pending, {}
        archived = await self._archived(pending.values())
        events = [
            e
            for (user, conversation), mid in pending.items()
            if (e := self._decide(user, conversation, mid, archived))
        ]
        if not events:
            return
        try:
            await self._log.append_many(events)
            self.logged += len(events)
        except EventLogUnavailable:
            # Receipts are advisory: the next ack of the conversation carries the position on.
            log.warning("dropped %d delivered acks: the event log is unavailable", len(events))

    async def _archived(self, message_ids: Iterable[str]) -> ArchivedMessages:
        try:
            return await self._lookup.missing(message_ids, "ack")
        except Rejected:
            return NO_ARCHIVED_MESSAGES  # advisory: acks of old messages wait for the next one

    def _decide(
        self, user: str, conversation: Conversation, message_id: str, archived: ArchivedMessages
    ) -> Event | None:
        # A peer conversation is named by its key, which decide_ack checks names the user.
        peer = conversation.type is ConversationType.PEER
        target = conversation.key if peer else conversation.target_id
        stamp = Stamp(wall_clock_ms(), new_id("d"))
        try:
            return decide_ack(
                user, conversation.type, target, message_id, AckKind.DELIVERED, self._model,
                stamp, archived,
            )  # fmt: skip
        except Rejected as rejected:
            log.debug("ack refused: %s", rejected.message)
            return None

    async def close(self) -> None:
        if self._flusher is not None and not self._flusher.done():
            self._flusher.cancel()
        await self.flush()
