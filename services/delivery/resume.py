"""Resume: fill a reconnecting session's gap from the history read model, then go live."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from typing import Protocol

from parley import metrics
from parley.adapters.wire_delivery import gap_frame, message_frame, synced_frame
from parley.domain.conversations import Conversation
from parley.domain.delivery_fold import DeliveryFold
from parley.domain.read_models import HistoryRow
from services.delivery.sessions import Session

log = logging.getLogger(__name__)

DEFAULT_MAX_FILL = 200
MAX_FILL = 1000
PAGE = 200
# How long a fill waits for the projector to write rows the log already has (projector lag).
CATCH_UP_TIMEOUT_S = 10.0
POLL_S = 0.05
_FILLED_MESSAGES = metrics.FILLED_FRAMES.labels(kind="message")
_FILLED_GAPS = metrics.FILLED_FRAMES.labels(kind="gap")


class HistoryReader(Protocol):
    """messages_by_conversation, oldest or newest first within [lowest, highest] (Cassandra)."""

    async def history(
        self, key: str, lowest: int, highest: int, limit: int, newest_first: bool
    ) -> list[HistoryRow]: ...


class GapFiller:
    """Fills (client position, live seq] of every conversation of a session, oldest first.

    The live seq comes from this node's fold; the rows from the projector's read model, which
    may lag behind the log: a missing row is waited for (bounded), never skipped silently.
    """

    def __init__(
        self,
        fold: DeliveryFold,
        history: HistoryReader | None,
        catch_up_timeout_s: float = CATCH_UP_TIMEOUT_S,
    ) -> None:
        self._fold = fold
        self._history = history
        self._timeout_s = catch_up_timeout_s

    async def fill(
        self, session: Session, last_seqs: Mapping[str, int], resume: bool, max_fill: int
    ) -> None:
        started = time.perf_counter()
        metrics.FILLS.labels(mode="resume" if resume else "fresh").inc()
        user = session.user_id
        cap = min(max_fill or DEFAULT_MAX_FILL, MAX_FILL)
        known = self._visible(session, last_seqs)
        for key, live in self._fold.conversations_of(user).items():
            if key in known:
                continue
            if resume:
                known[key] = 0
            else:
                # A fresh install: announce the conversation, let the client page its history.
                session.seqs[key] = live
                if live:
                    session.push(gap_frame(key, 0, live))
                    _FILLED_GAPS.inc()
        for key, position in known.items():
            session.seqs[key] = max(position, session.seqs.get(key, 0))
            await self._fill_one(session, key, position, cap)
        # Synced names only what the user may see: positions the client claimed elsewhere stay
        # held (see _visible), but are never confirmed back to it.
        shown = {k: seq for k, seq in session.seqs.items() if self._fold.can_see(user, k)}
        session.end_fill(synced_frame(shown))
        metrics.FILL_SECONDS.observe(time.perf_counter() - started)

    def _visible(self, session: Session, last_seqs: Mapping[str, int]) -> dict[str, int]:
        """The client's positions in the conversations this node's fold shows the user. The
        others are not filled, yet what the client holds there stays held: a fold behind the
        log (restored from an older checkpoint, or its newest fetch still out) pushes what it
        catches up on live, and must not push the client's own messages again."""
        visible: dict[str, int] = {}
        for key, position in last_seqs.items():
            if self._fold.can_see(session.user_id, key):
                visible[key] = max(0, position)
            else:
                session.seqs[key] = max(0, position)
        return visible

    async def _fill_one(self, session: Session, key: str, position: int, cap: int) -> None:
        live = self._fold.last_seq(key)
        if live <= position:
            return
        conversation = Conversation.from_key(key)
        assert conversation is not None
        kind = conversation.type
        start = position
        if live - position > cap:
            start = live - cap
            await self._gap(session, key, position, start)
        if self._history is None:
            await self._gap(session, key, start, live)
            return
        rows = await self._rows(key, start + 1, live)
        for row in rows:
            await session.put_filled(message_frame(row, kind, live=False), key, row.seq)
        _FILLED_MESSAGES.inc(len(rows))
        filled = rows[-1].seq if rows else start
        if filled < live:
            log.warning("history of %s lags: filled up to %d of %d", key, filled, live)
            await self._gap(session, key, filled, live)
            session.seqs[key] = max(session.seqs.get(key, 0), live)

    @staticmethod
    async def _gap(session: Session, key: str, after: int, up_to: int) -> None:
        await session.put_filled(gap_frame(key, after, up_to), key, 0)
        _FILLED_GAPS.inc()

    async def _rows(self, key: str, lowest: int, highest: int) -> list[HistoryRow]:
        """Rows lowest..highest, waiting while the projector has not written them all yet."""
        assert self._history is not None
        deadline = time.monotonic() + self._timeout_s
        rows: list[HistoryRow] = []
        while True:
            while lowest <= highest:
                page = await self._history.history(key, lowest, highest, PAGE, False)
                rows += page
                if len(page) < PAGE:
                    break
                lowest = page[-1].seq + 1
            if (rows and rows[-1].seq >= highest) or time.monotonic() >= deadline:
                return rows
            if rows:
                lowest = rows[-1].seq + 1
            await asyncio.sleep(POLL_S)  # bounded wait on the projector, not on a peer
