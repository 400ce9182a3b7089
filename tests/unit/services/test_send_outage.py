"""Sends waiting for the log when it goes down: UNAVAILABLE at once, and a retry lands once."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable

import grpc
import pytest

from parley.adapters.memory import InMemoryEventFeed, InMemoryEventLog
from parley.config import Settings
from parley.domain.events import MessageSent
from parley.domain.log_streams import Stream
from parley.domain.write_model import WriteModel
from parley.gen.parley.v1 import common_pb2, ingress_pb2, ingress_pb2_grpc
from services.ingress.server import start_server
from services.shell.errors import REASON_TRAILER
from services.writes.app import assemble

PROMPT_S = 1.0
Auth = tuple[tuple[str, str]]


class Alice:
    """A client of an ingress over an in-memory log, sending to bob."""

    def __init__(self, log: InMemoryEventLog, channel: grpc.aio.Channel, auth: Auth) -> None:
        self.log = log
        self._messaging = ingress_pb2_grpc.MessagingServiceStub(channel)
        self._auth = auth

    async def send(self, cmid: str, text: str = "hi") -> ingress_pb2.SendMessageResponse:
        request = ingress_pb2.SendMessageRequest(
            conversation=common_pb2.ConversationRef(
                type=common_pb2.CONVERSATION_TYPE_PEER, id="bob"
            ),
            client_message_id=cmid,
            body=common_pb2.MessageBody(text=common_pb2.TextContent(text=text)),
        )
        reply: ingress_pb2.SendMessageResponse = await self._messaging.SendMessage(
            request, metadata=self._auth
        )
        return reply

    async def refused(self, cmid: str) -> str:
        """The reason code of a send that must be answered UNAVAILABLE, promptly."""
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await asyncio.wait_for(self.send(cmid), PROMPT_S)
        assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
        return str(dict(caught.value.trailing_metadata() or ())[REASON_TRAILER])

    async def status(self, cmid: str) -> int:
        reply = await self._messaging.GetSendStatus(
            ingress_pb2.GetSendStatusRequest(client_message_id=cmid), metadata=self._auth
        )
        return int(reply.status)

    def sends(self) -> list[MessageSent]:
        records = self.log.records(self.log.topic_of(Stream.CONVERSATION_EVENTS))
        return [r.event.payload for r in records if isinstance(r.event.payload, MessageSent)]


@pytest.fixture
async def alice() -> AsyncIterator[Alice]:
    settings = Settings()
    log = InMemoryEventLog()
    model = WriteModel()
    feed = InMemoryEventFeed(log, model)
    await feed.start()
    parts = assemble(settings, model, log, feed)
    running = await start_server(parts.context, parts.authenticator, "127.0.0.1:0")
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{running.port}")
    admin = ingress_pb2_grpc.AdminServiceStub(channel)
    token = await admin.IssueToken(
        ingress_pb2.IssueTokenRequest(user_id="alice"),
        metadata=(("authorization", f"Bearer {settings.admin_secret}"),),
    )
    yield Alice(log, channel, (("authorization", f"Bearer {token.token}"),))
    await channel.close()
    await running.stop(0)


async def until(condition: Callable[[], bool], timeout_s: float = 2.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"not so after {timeout_s}s"
        await asyncio.sleep(0.01)


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
    alice.log.stall()
    first = asyncio.create_task(alice.refused("c1"))
    await until(lambda: alice.log.waiting == 1)
    alice.log.cut_off()
    assert await first == "9001"
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
    alice.log.stall()
    first = asyncio.create_task(alice.refused("c1"))
    await until(lambda: alice.log.waiting == 1)
    alice.log.cut_off()
    assert await first == "9001"
    alice.log.reconnect()
    assert await alice.status("c1") == ingress_pb2.SEND_STATUS_ACCEPTED
    reply = await alice.send("c1")
    assert reply.duplicate
    assert [s.message_id for s in alice.sends()] == [reply.message_id]


async def test_send_outage__retry_after_the_log_gave_up_on_the_first_attempt_lands_once(
    alice: Alice,
) -> None:
    alice.log.stall()
    first = asyncio.create_task(alice.refused("c1"))
    await until(lambda: alice.log.waiting == 1)
    alice.log.cut_off()
    assert await first == "9001"
    alice.log.reconnect(write_held=False)
    assert await alice.status("c1") == ingress_pb2.SEND_STATUS_UNKNOWN
    reply = await alice.send("c1")
    assert not reply.duplicate
    assert [s.message_id for s in alice.sends()] == [reply.message_id]
