"""Sends waiting for the log when it goes down: UNAVAILABLE at once, and a retry lands once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import grpc
import pytest

from parley.adapters.memory import InMemoryEventLog
from parley.gen.parley.v1 import ingress_pb2
from tests.unit.services.ingress_harness import Sender, reason_code, serving, until

PROMPT_S = 1.0


class Alice(Sender):
    """A client of an ingress over an in-memory log, sending to bob."""

    async def refused(self, cmid: str) -> str:
        """The reason code of a send that must be answered UNAVAILABLE, promptly."""
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await asyncio.wait_for(self.send(cmid), PROMPT_S)
        assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
        return reason_code(caught.value)

    async def status(self, cmid: str) -> int:
        reply = await self.messaging.GetSendStatus(
            ingress_pb2.GetSendStatusRequest(client_message_id=cmid), metadata=self.auth
        )
        return int(reply.status)

    async def cut_off_while_sending(self, cmid: str) -> None:
        """A send the log holds, answered UNAVAILABLE once the log goes down."""
        self.log.stall()
        first = asyncio.create_task(self.refused(cmid))
        await until(lambda: self.log.waiting == 1)
        self.log.cut_off()
        assert await first == "9001"


@pytest.fixture
async def alice() -> AsyncIterator[Alice]:
    async with serving(InMemoryEventLog()) as served:
        yield Alice(served, await served.token("alice"))


async def test_send_outage__waiting_sends_answer_unavailable_when_the_log_goes_down(
    alice: Alice,
) -> None:
    # Sends wait for the log, one of them twice: its retry shares the first attempt.
    alice.log.stall()
    waiting = [asyncio.create_task(alice.refused(cmid)) for cmid in ("one", "two", "two")]
    await until(lambda: alice.log.waiting == 2)
    alice.log.cut_off()
    assert await asyncio.gather(*waiting) == ["9001"] * 3
    # While it is down, a retry is refused at once too.
    assert await alice.refused("one") == "9001"


async def test_send_outage__retry_meets_the_first_attempt_written_after_all(
    alice: Alice,
) -> None:
    await alice.cut_off_while_sending("c1")
    # The log is reachable again but has not yet written the held record: a retry joins it.
    alice.log.available = True
    retry = asyncio.create_task(alice.send("c1"))
    await until(lambda: alice.log.waiting == 1)
    alice.log.reconnect()
    reply = await retry
    assert reply.duplicate
    assert [s.message_id for s in alice.sends()] == [reply.message_id]
    assert await alice.status("c1") == ingress_pb2.SEND_STATUS_ACCEPTED


async def test_send_outage__first_attempt_written_later_is_known_before_any_retry(
    alice: Alice,
) -> None:
    await alice.cut_off_while_sending("c1")
    alice.log.reconnect()
    assert await alice.status("c1") == ingress_pb2.SEND_STATUS_ACCEPTED
    reply = await alice.send("c1")
    assert reply.duplicate
    assert [s.message_id for s in alice.sends()] == [reply.message_id]


async def test_send_outage__retry_after_the_log_gave_up_on_the_first_attempt_lands_once(
    alice: Alice,
) -> None:
    await alice.cut_off_while_sending("c1")
    alice.log.reconnect(write_held=False)
    assert await alice.status("c1") == ingress_pb2.SEND_STATUS_UNKNOWN
    reply = await alice.send("c1")
    assert not reply.duplicate
    assert [s.message_id for s in alice.sends()] == [reply.message_id]
