"""The send use case, in order: decide (and, when the content names media or a message this
process has not seen yet, catch up with the log and decide again), ask the operator's pre-send
hook, append, record. Retries of one send share one hook call and one append, also one an
outage left unsettled. Also the status of a send its client is unsure about."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace

from parley import metrics
from parley.domain.commands import SendCommand, SendReceipt, Stamp
from parley.domain.events import Event, Position
from parley.domain.media_objects import object_ids_of
from parley.domain.message_archive import ArchivedMessages
from parley.domain.message_ids import fingerprint_of_event, message_id_for
from parley.domain.send_ledger import SendLedger
from parley.domain.sending import SendDecider
from parley.media_lookup import MediaLookup
from parley.message_lookup import MessageLookup
from parley.ports import UnsettledAppend
from services.writes.send_hook import SendHookStep
from services.writes.send_order import SendOrder, Turn
from services.writes.writer import EventWriter


@dataclass
class _Attempt:
    """A send this process is asking the hook about or appending, and has not seen settled."""

    fingerprint: str  # the send's as decided: the hook's replacement keeps it
    decision: Event  # the event to append: the hook's replacement once it answered
    outcome: asyncio.Future[SendReceipt]  # the first answer, shared by retries meanwhile
    # Set when the first answer was UNAVAILABLE while the log still holds the append: the
    # client may retry, and the append may still be written (see SendFlow._follow).
    unsettled: UnsettledAppend | None = None


class SendFlow:
    def __init__(
        self,
        decider: SendDecider,
        writer: EventWriter,
        media: MediaLookup,
        ledger: SendLedger,
        messages: MessageLookup,
        hook: SendHookStep | None = None,
    ) -> None:
        self._decider = decider
        self._writer = writer
        self._hook = hook  # the operator's pre-send hook, when settings name one
        self._ledger = ledger  # the write model's: the sends of the idempotency window
        self._messages = messages  # messages older than the index's window, sends the ledger's
        self._order = SendOrder()
        self._media = media  # objects older than the media registry's window
        # message id -> the attempt whose append is in flight here, or unsettled after an
        # outage (for at most the producer's delivery timeout: the log settles every append).
        self._inflight: dict[str, _Attempt] = {}

    async def send(
        self, command: SendCommand, stamp: Stamp, *, bypass_rate_limit: bool = False
    ) -> SendReceipt:
        turn = self._order.take(command.sender)
        try:
            # A send the ledger does not know reads the archive once (it may be a retry from
            # before the ledger's window, or forward an old message); a retry within it does not.
            found = await self._messages.for_send(command)
            await turn.ready()  # reads end in any order; appends go in the sender's order
            return await self._send(command, stamp, bypass_rate_limit, found, turn)
        finally:
            turn.release()

    async def status(self, sender: str, client_message_id: str) -> SendReceipt | None:
        """The answer one of the sender's own sends was given, for a client unsure about it:
        from the ledger within the idempotency window, from the message archive past it
        (Rejected READ_MODELS_UNAVAILABLE when the archive does not answer); None when the log
        holds no such send as far as this process knows."""
        entry = self._ledger.lookup(sender, client_message_id)
        if entry is not None:
            return entry.receipt
        archived = await self._messages.send_status(sender, client_message_id)
        return archived.receipt if archived is not None else None

    async def _send(
        self,
        command: SendCommand,
        stamp: Stamp,
        bypass_rate_limit: bool,
        found: ArchivedMessages,
        turn: Turn,
    ) -> SendReceipt:
        message_id = message_id_for(command.sender, command.client_message_id)
        while (running := self._inflight.get(message_id)) is not None:
            turn.release()  # a retry of a send in flight waits for it, holding no one up
            receipt = await self._join(command, running)
            if receipt is not None:
                metrics.SENDS.labels(outcome="duplicate").inc()
                return replace(receipt, duplicate=True)
            # The log gave up on the earlier append: this retry is the send now.
            self._forget(message_id, running)
        decision = await self._writer.decide(
            lambda: self._decide(command, stamp, bypass_rate_limit, found)
        )
        if isinstance(decision, SendReceipt):
            metrics.SENDS.labels(outcome="duplicate").inc()
            return decision
        attempt = _Attempt(
            fingerprint_of_event(decision), decision, asyncio.get_running_loop().create_future()
        )
        # In flight before the hook is asked: a retry meanwhile joins this attempt instead of
        # asking the hook a second time (after the append, the ledger answers it).
        self._inflight[message_id] = attempt
        try:
            if self._hook is not None and self._hook.sees(decision):
                # The sender's turn is held meanwhile: their next send appends after this one.
                attempt.decision = decision = await self._hook.check(decision)
            turn.release()  # the log takes the append before the sender's next send runs again
            position = await self._writer.write(
                decision,
                on_unsettled=lambda unsettled: self._follow(message_id, attempt, unsettled),
            )
            receipt = self._decider.record(decision, position)
            attempt.outcome.set_result(receipt)
            metrics.SENDS.labels(outcome="accepted").inc()
            return receipt
        except BaseException as error:
            attempt.outcome.set_exception(error)
            attempt.outcome.exception()  # retrieved: an unawaited failure is not reported twice
            raise
        finally:
            if attempt.unsettled is None:
                self._forget(message_id, attempt)

    async def _decide(
        self, command: SendCommand, stamp: Stamp, bypass_rate_limit: bool, found: ArchivedMessages
    ) -> Event | SendReceipt:
        """The decider's answer on what the media archive holds about the objects the content
        names that the media registry does not (read first: the decision itself does no I/O)."""
        archived = await self._media.archived(object_ids_of(command.content))
        return self._decider.prepare(
            command,
            stamp,
            bypass_rate_limit=bypass_rate_limit,
            archived_messages=found,
            archived=archived,
        )

    def _follow(self, message_id: str, attempt: _Attempt, unsettled: UnsettledAppend) -> None:
        """Keeps an attempt answered UNAVAILABLE while the log still holds its append. A retry
        meanwhile waits for that append instead of appending a second record, and once the log
        writes it, the ledger has it at once, before the log follower brings it back."""
        attempt.unsettled = unsettled

        def settled(positions: list[Position] | None) -> None:
            if positions:
                self._decider.record(attempt.decision, positions[0])
            self._forget(message_id, attempt)

        unsettled.when_settled(settled)

    def _forget(self, message_id: str, attempt: _Attempt) -> None:
        if self._inflight.get(message_id) is attempt:
            del self._inflight[message_id]

    async def _join(self, command: SendCommand, attempt: _Attempt) -> SendReceipt | None:
        """The receipt of the attempt a retry meets; None if the log gave up on its append."""
        self._decider.check_same_send(command, attempt.fingerprint)
        if attempt.unsettled is None:
            return await asyncio.shield(attempt.outcome)
        # UNAVAILABLE at once while the log is still down: the outcome is still unknown.
        position = await self._writer.follow(attempt.decision, attempt.unsettled)
        if position is None:
            return None
        return self._decider.record(attempt.decision, position)
