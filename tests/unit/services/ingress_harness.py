"""An ingress over an in-memory log, served in-process on port 0: the servicer tests' harness."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import grpc

from parley.adapters.memory import InMemoryEventFeed, InMemoryEventLog
from parley.config import Settings
from parley.domain.events import Logged, MessageSent
from parley.domain.log_streams import Stream
from parley.domain.write_model import WriteModel
from parley.gen.parley.v1 import common_pb2, ingress_pb2, ingress_pb2_grpc
from parley.ports import EventFeed
from services.ingress.server import start_server
from services.shell.errors import REASON_TRAILER
from services.writes.app import assemble, send_hook_of

Auth = tuple[tuple[str, str]]
FeedOf = Callable[[InMemoryEventLog, WriteModel], EventFeed]


@dataclass
class Harness:
    log: InMemoryEventLog
    feed: EventFeed
    channel: grpc.aio.Channel
    settings: Settings

    async def token(self, user: str) -> Auth:
        """Call metadata authenticating `user`, with a token the AdminService issued."""
        admin = ingress_pb2_grpc.AdminServiceStub(self.channel)
        reply = await admin.IssueToken(
            ingress_pb2.IssueTokenRequest(user_id=user),
            metadata=(("authorization", f"Bearer {self.settings.admin_secret}"),),
        )
        return (("authorization", f"Bearer {reply.token}"),)

    def records(self) -> list[Logged]:
        return self.log.records(*(self.log.topic_of(stream) for stream in Stream))

    def sends(self) -> list[MessageSent]:
        payloads = [r.event.payload for r in self.records()]
        return [p for p in payloads if isinstance(p, MessageSent)]


class Sender:
    """A user's client of the harness's ingress, sending text to peers (bob unless named)."""

    def __init__(self, harness: Harness, auth: Auth) -> None:
        self.log = harness.log
        self._harness = harness
        self.messaging = ingress_pb2_grpc.MessagingServiceStub(harness.channel)
        self.auth = auth

    async def send(
        self, cmid: str, text: str = "hi", peer: str = "bob"
    ) -> ingress_pb2.SendMessageResponse:
        reply: ingress_pb2.SendMessageResponse = await self.messaging.SendMessage(
            text_to(peer, cmid, text), metadata=self.auth
        )
        return reply

    def sends(self) -> list[MessageSent]:
        return self._harness.sends()


@contextlib.asynccontextmanager
async def serving(
    log: InMemoryEventLog, feed_of: FeedOf | None = None, settings: Settings | None = None
) -> AsyncIterator[Harness]:
    """An ingress over `log` on port 0, with a channel to it. Its write model follows the log
    through an InMemoryEventFeed, or through the feed `feed_of(log, model)` builds; it calls the
    send hook `settings` name, if any."""
    settings = settings or Settings()
    model = WriteModel()
    if feed_of is None:
        following = InMemoryEventFeed(log, model)
        await following.start()
        feed: EventFeed = following
    else:
        feed = feed_of(log, model)
    hook = send_hook_of(settings)
    parts = assemble(settings, model, log, feed, send_hook=hook)
    running = await start_server(parts.context, parts.authenticator, "127.0.0.1:0")
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{running.port}")
    try:
        yield Harness(log, feed, channel, settings)
    finally:
        await channel.close()
        await running.stop(0)
        if hook is not None:
            await hook.close()


def text_to(peer: str, cmid: str, text: str = "hi") -> ingress_pb2.SendMessageRequest:
    return ingress_pb2.SendMessageRequest(
        conversation=common_pb2.ConversationRef(type=common_pb2.CONVERSATION_TYPE_PEER, id=peer),
        client_message_id=cmid,
        body=common_pb2.MessageBody(text=common_pb2.TextContent(text=text)),
    )


def reason_code(error: grpc.aio.AioRpcError) -> str:
    """The stable reason code a rejection carries in its trailer."""
    return str(dict(error.trailing_metadata() or ())[REASON_TRAILER])


async def until(condition: Callable[[], bool], timeout_s: float = 2.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"not so after {timeout_s}s"
        await asyncio.sleep(0.01)
