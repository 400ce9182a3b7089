"""The send use case: decide, append, record; concurrent retries of one send share one append."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from parley import metrics
from parley.domain.commands import SendCommand, SendReceipt, Stamp
from parley.domain.errors import Reason, Rejected
from parley.domain.message_ids import fingerprint, message_id_for
from parley.domain.sending import SendDecider
from services.ingress.writer import EventWriter


class SendFlow:
    def __init__(self, decider: SendDecider, writer: EventWriter) -> None:
        self._decider = decider
        self._writer = writer
        # message id -> (fingerprint, outcome) of sends whose append is still in flight here.
        self._inflight: dict[str, tuple[str, asyncio.Future[SendReceipt]]] = {}

    async def send(
        self, command: SendCommand, stamp: Stamp, *, bypass_rate_limit: bool = False
    ) -> SendReceipt:
        message_id = message_id_for(command.sender, command.client_message_id)
        running = self._inflight.get(message_id)
        if running is not None:
            return await self._join(command, *running)
        decision = await self._writer.unless_unseen(
            lambda: self._decider.prepare(command, stamp, bypass_rate_limit=bypass_rate_limit)
        )
        if isinstance(decision, SendReceipt):
            metrics.SENDS.labels(outcome="duplicate").inc()
            return decision
        outcome: asyncio.Future[SendReceipt] = asyncio.get_running_loop().create_future()
        self._inflight[message_id] = (fingerprint(command), outcome)
        try:
            position = await self._writer.write(decision)
            receipt = self._decider.record(decision, position)
            outcome.set_result(receipt)
            metrics.SENDS.labels(outcome="accepted").inc()
            return receipt
        except BaseException as error:
            outcome.set_exception(error)
            outcome.exception()  # retrieved here so an unawaited failure is not reported twice
            raise
        finally:
            del self._inflight[message_id]

    @staticmethod
    async def _join(
        command: SendCommand, known_fingerprint: str, outcome: asyncio.Future[SendReceipt]
    ) -> SendReceipt:
        if fingerprint(command) != known_fingerprint:
            raise Rejected(
                Reason.CLIENT_MESSAGE_ID_CONFLICT,
                "client message id already used for a different message",
            )
        receipt = await asyncio.shield(outcome)
        metrics.SENDS.labels(outcome="duplicate").inc()
        return replace(receipt, duplicate=True)
