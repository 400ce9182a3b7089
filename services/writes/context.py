"""What every ingress servicer shares: the write model, the writer, the clock and id sources."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from parley.adapters.tokens import TokenAuthority
from parley.domain.commands import Stamp
from parley.domain.events import Event
from parley.domain.limits import Limits
from parley.domain.message_archive import ArchivedMessages
from parley.domain.write_model import WriteModel
from parley.media_lookup import MediaLookup
from parley.message_lookup import MessageLookup
from parley.ports import MessageArchive
from services.shell.auth import current_caller
from services.shell.clock import new_id, wall_clock_ms
from services.writes.sends import SendFlow
from services.writes.writer import EventWriter

REQUEST_ID_HEADER = "x-request-id"

# decide(actor, stamp): the event a request by the caller appends, or Rejected.
DecideAsCaller = Callable[[str, Stamp], Event]


@dataclass
class IngressContext:
    model: WriteModel
    limits: Limits
    writer: EventWriter
    sends: SendFlow
    tokens: TokenAuthority
    media_lookup: MediaLookup  # the media archive, for objects older than the registry's window
    clock_ms: Callable[[], int] = field(default=wall_clock_ms)
    message_archive: MessageArchive | None = None  # messages older than the index's window
    messages: MessageLookup = field(init=False)

    def __post_init__(self) -> None:
        self.messages = MessageLookup(self.message_archive, self.model)

    async def archived(self, message_id: str, use: str) -> ArchivedMessages:
        """What the message archive holds about a message the index no longer does; a store
        that does not answer is READ_MODELS_UNAVAILABLE."""
        return await self.messages.missing([message_id], use)

    def stamp(self, context: Any) -> Stamp:
        """A fresh event id and the caller's request id (or a new one) for tracing."""
        request_id = ""
        for key, value in context.invocation_metadata() or ():
            if key == REQUEST_ID_HEADER:
                request_id = str(value)[:64]
        return Stamp(now_ms=self.clock_ms(), event_id=new_id(), request_id=request_id or new_id())

    async def decide_and_append(
        self, context: Any, decide: Callable[[Stamp], Event], *, settle: bool = False
    ) -> int:
        """Stamps the request, decides on the write model (once more after catching up with the
        log if the model may have been stale: EventWriter.decide) and appends the event; the
        order key once the log acknowledged it."""
        stamp = self.stamp(context)

        async def decided() -> Event:
            return decide(stamp)

        return await self.append(await self.writer.decide(decided), settle=settle)

    async def decide_as_caller(
        self, context: Any, decide: DecideAsCaller, *, settle: bool = False
    ) -> int:
        """decide_and_append with the authenticated caller as the actor: `decide(actor, stamp)`."""
        actor = current_caller().user_id
        return await self.decide_and_append(
            context, lambda stamp: decide(actor, stamp), settle=settle
        )

    async def append(self, event: Event, *, settle: bool = False) -> int:
        """Appends a decided event and returns its order key once the log acknowledged it;
        with `settle`, also once this process's write model folded it (read-your-writes)."""
        position = await self.writer.write(event, settle=settle)
        return position.offset
