"""The projector: a batch of logged events -> reducer -> ProjectionStore, in ordered phases."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from parley.domain.events import (
    Logged,
    MessageDelivered,
    MessageRead,
    MessageRecalled,
    MessageSent,
)
from parley.domain.projection import projects
from parley.domain.projection_fold import fold
from parley.domain.projection_state import ConversationState, MessageRef, new_state
from parley.domain.read_models import PROJECTOR_NAME
from parley.ports import NoticeSink, ProjectionStore

log = logging.getLogger(__name__)

MAX_CACHED_STATES = 200_000  # conversations kept in memory; the rest reload from Cassandra


@dataclass
class BatchStats:
    events: int
    conversations: int
    rows: int
    notices: int
    phase_ms: dict[str, int] = field(default_factory=dict)  # where the time went


class Projector:
    """Owns the states of the conversations in the partitions assigned to this worker.

    `apply` returns only when rows, notices, states and positions are stored, so
    the caller may then commit the Kafka offsets. `forget` drops every cached state (call it on
    a rebalance: another worker may have moved a conversation on meanwhile).
    """

    def __init__(
        self,
        store: ProjectionStore,
        topic: str,
        notices: NoticeSink | None = None,
        name: str = PROJECTOR_NAME,
    ) -> None:
        self._store = store
        self._topic = topic
        self._notices = notices
        self._name = name
        self._states: OrderedDict[str, ConversationState] = OrderedDict()
        self._generation = 0  # bumped by forget: a batch running across it caches nothing

    def forget(self) -> None:
        self._states.clear()
        self._generation += 1

    async def apply(self, batch: Sequence[Logged]) -> BatchStats:
        if not batch:
            return BatchStats(0, 0, 0, 0)
        try:
            return await self._apply(batch)
        except BaseException:
            self.forget()  # states may be ahead of what was stored: reload them on retry
            raise

    async def _apply(self, batch: Sequence[Logged]) -> BatchStats:
        clock, generation = _Clock(), self._generation
        states = await self._states_for(batch)
        refs, carried = await asyncio.gather(
            self._refs_for(batch, states), self._carried_for(batch)
        )
        clock.lap("load")
        out = fold(states, batch, refs, carried)
        clock.lap("fold")
        # Phase 1 rows, phase 2 notices, phase 3 states and positions: a crash between phases
        # leaves every state at or before its rows and notices, so resuming rewrites identical
        # rows, publishes the notices again (delivery drops duplicates by offset) and skips the
        # rest. A state stored before its notices would make the position guard skip them.
        await self._store.write_rows(out.writes.values())
        clock.lap("rows")
        if self._notices is not None and out.notices:
            await self._notices.publish(list(out.notices.values()))
        clock.lap("notices")
        await self._store.save_states(out.touched.values())
        await self._store.save_positions(self._name, self._topic, _last_offsets(batch))
        clock.lap("states")
        if generation == self._generation:
            self._remember(states)
        return BatchStats(
            len(batch), len(out.touched), len(out.writes), len(out.notices), clock.laps
        )

    async def _states_for(self, batch: Sequence[Logged]) -> dict[str, ConversationState]:
        projected = [logged for logged in batch if projects(logged.event)]
        wanted = dict.fromkeys(logged.event.conversation_key for logged in projected)
        missing = [key for key in wanted if key not in self._states]
        loaded = await self._store.load_states(missing) if missing else {}
        states: dict[str, ConversationState] = {}
        for logged in projected:
            key = logged.event.conversation_key
            if key in states:
                continue
            state = self._states.get(key) or loaded.get(key)
            if state is None:
                state = new_state(key, logged.event.conversation_type, logged.position.partition)
            states[key] = state
        return states

    async def _refs_for(
        self, batch: Sequence[Logged], states: dict[str, ConversationState]
    ) -> dict[str, MessageRef]:
        """Message refs of recalls and acks naming messages older than the recent window."""
        wanted = [
            (e.conversation_key, e.payload.message_id)
            for e in (logged.event for logged in batch)
            if isinstance(e.payload, (MessageRecalled, MessageRead, MessageDelivered))
            and e.payload.message_id not in states[e.conversation_key].recent
        ]
        return await self._store.lookup_refs(dict.fromkeys(wanted)) if wanted else {}

    async def _carried_for(self, batch: Sequence[Logged]) -> dict[str, tuple[str, ...]]:
        """The objects of media messages stored before this batch that it recalls (the media
        archive's recall flags; messages stored in the batch are known to the fold)."""
        events = [logged.event for logged in batch]
        sent_here = {e.payload.message_id for e in events if isinstance(e.payload, MessageSent)}
        wanted = [
            (e.conversation_key, e.payload.message_id)
            for e in events
            if isinstance(e.payload, MessageRecalled) and e.payload.message_id not in sent_here
        ]
        return await self._store.lookup_carried(dict.fromkeys(wanted)) if wanted else {}

    def _remember(self, states: dict[str, ConversationState]) -> None:
        for key, state in states.items():
            self._states[key] = state
            self._states.move_to_end(key)
        while len(self._states) > MAX_CACHED_STATES:
            self._states.popitem(last=False)


class _Clock:
    def __init__(self) -> None:
        self.laps: dict[str, int] = {}
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = round((now - self._last) * 1000)
        self._last = now


def _last_offsets(batch: Iterable[Logged]) -> dict[int, int]:
    offsets: dict[int, int] = {}
    for logged in batch:
        p = logged.position
        offsets[p.partition] = max(offsets.get(p.partition, -1), p.offset)
    return offsets
