"""DeliveryService.Connect: authenticate, register, fill the gap, stream until closed."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import grpc

from parley.adapters.tokens import TokenAuthority
from parley.adapters.wire_delivery import (
    go_away_frame,
    pong_frame,
    token_will_expire_frame,
    welcome_frame,
)
from parley.domain.errors import Reason, Rejected
from parley.gen.parley.v1 import delivery_pb2 as pb
from services.delivery.acks import DeliveredAcks
from services.delivery.presence import Presence
from services.delivery.resume import GapFiller
from services.delivery.sessions import CloseReason, Session, SessionRegistry
from services.shell.auth import bearer_of
from services.shell.clock import new_id, wall_clock_ms
from services.shell.errors import trailing_metadata_of

log = logging.getLogger(__name__)

SERVICE_NAME = "parley.v1.DeliveryService"
HELLO_TIMEOUT_S = 10.0
TOKEN_NOTICE_S = 60.0  # how long before expiry TokenWillExpire is sent (at most)
RESYNC_TRAILER = "parley-resync"
MAX_BATCH = 64  # frames per batch write at most, whatever the client's Hello asks


@dataclass
class DeliveryContext:
    registry: SessionRegistry
    filler: GapFiller
    acks: DeliveredAcks
    presence: Presence
    tokens: TokenAuthority
    node_id: str
    accepting: bool = True

    async def go_away(self, reason: str) -> None:
        """Tells every session to reconnect elsewhere and ends it (graceful shutdown)."""
        self.accepting = False
        for session in self.registry.all():
            session.close(CloseReason(grpc.StatusCode.UNAVAILABLE, reason, go_away_frame(reason)))
        await asyncio.sleep(0)


class DeliveryServicer:
    def __init__(self, ctx: DeliveryContext) -> None:
        self._ctx = ctx

    async def connect(self, requests: AsyncIterator[pb.ClientFrame], context: Any) -> None:
        ctx = self._ctx
        # The hello is read before any refusal: grpcio's asyncio client reports INTERNAL, not
        # our status, when its first write meets a call already ended (services.shell.errors).
        hello = await _hello(requests)
        claims = ctx.tokens.verify(bearer_of(context.invocation_metadata()))  # refused first
        if hello is None:
            raise Rejected(Reason.BAD_PARAMETER, "the first frame must be a hello")
        if not ctx.accepting:
            await context.abort(grpc.StatusCode.UNAVAILABLE, "this node is shutting down")
        session = Session(new_id("s"), claims.user_id, claims.expires_at_ms,
                          min(hello.max_batch, MAX_BATCH))  # fmt: skip
        first = ctx.registry.add(session)
        reader = asyncio.ensure_future(self._read(session, requests))
        filler = asyncio.ensure_future(
            ctx.filler.fill(session, hello.last_seqs, hello.resume, hello.max_fill_per_conversation)
        )
        try:
            session.push(welcome_frame(session.session_id, ctx.node_id, wall_clock_ms(),
                                       session.expires_at_ms))  # fmt: skip
            # Welcome goes out ahead of the held-back live frames, before the fill ends.
            _schedule_expiry(session)
            ctx.presence.arrived(session, first)
            await _stream(session, context)
        finally:
            reader.cancel()
            filler.cancel()
            session.close(CloseReason(grpc.StatusCode.CANCELLED, "session ended"))
            ctx.presence.left(session.user_id, ctx.registry.remove(session))
        reason = session.close_reason
        if reason is not None and reason.code is not grpc.StatusCode.CANCELLED:
            trailers = reason.trailers + (((RESYNC_TRAILER, "1"),) if reason.resync else ())
            await context.abort(reason.code, reason.message, trailing_metadata=trailers)

    async def _read(self, session: Session, requests: AsyncIterator[pb.ClientFrame]) -> None:
        try:
            async for frame in requests:
                kind = frame.WhichOneof("frame")
                if kind == "delivered":
                    for acked in frame.delivered.messages:
                        self._ctx.acks.add(session.user_id, acked.conversation_key,
                                           acked.message_id)  # fmt: skip
                elif kind == "ping":
                    session.push(pong_frame(frame.ping.client_time_ms, wall_clock_ms()))
                elif kind == "renew_token":
                    self._renew(session, frame.renew_token.token)
        except (grpc.aio.AioRpcError, asyncio.InvalidStateError):
            pass
        except grpc.aio.AbortError:
            pass  # an undecodable frame: the call already ended with BAD_PARAMETER
        # The client closed its side: the session is over.
        session.close(CloseReason(grpc.StatusCode.CANCELLED, "the client closed the stream"))

    def _renew(self, session: Session, token: str) -> None:
        try:
            claims = self._ctx.tokens.verify(token)
            if claims.user_id != session.user_id:
                raise Rejected(Reason.TOKEN_INVALID, "the new token names another user")
        except Rejected as rejected:
            session.close(CloseReason(grpc.StatusCode.UNAUTHENTICATED, rejected.message,
                                      trailers=trailing_metadata_of(rejected)))  # fmt: skip
            return
        session.expires_at_ms = claims.expires_at_ms
        _schedule_expiry(session)


async def _hello(requests: AsyncIterator[pb.ClientFrame]) -> pb.Hello | None:
    """The client's first frame if it is a hello (within HELLO_TIMEOUT_S), else None."""
    try:
        first = await asyncio.wait_for(anext(requests), HELLO_TIMEOUT_S)
    except (TimeoutError, StopAsyncIteration):
        return None
    return first.hello if first.WhichOneof("frame") == "hello" else None


async def _stream(session: Session, context: Any) -> None:
    """Writes the outbox until the session closes. A write blocked by HTTP/2 flow control (a
    client that stopped reading) is cancelled by Session.overflow through `session.task`."""
    task = asyncio.current_task()
    while (frame := await session.next_write()) is not None:
        session.task = task
        try:
            await context.write(frame)
        except asyncio.CancelledError:
            reason = session.close_reason
            if task is None or reason is None or not reason.resync:
                raise
            task.uncancel()
            return
        finally:
            session.task = None


def _schedule_expiry(session: Session) -> None:
    """TokenWillExpire ahead of expiry, then UNAUTHENTICATED at expiry unless renewed. The
    frame and the close reason are built when the timers fire: idle sessions do not hold them."""
    for timer in session.timers:
        timer.cancel()
    loop = asyncio.get_running_loop()
    left_s = (session.expires_at_ms - wall_clock_ms()) / 1000
    notice_in = max(0.0, left_s - min(TOKEN_NOTICE_S, left_s / 2))
    session.timers = [
        loop.call_later(notice_in, _announce_expiry, session),
        loop.call_later(max(0.0, left_s), _expire, session),
    ]


def _announce_expiry(session: Session) -> None:
    session.push(token_will_expire_frame(session.expires_at_ms))


def _expire(session: Session) -> None:
    expired = Rejected(Reason.TOKEN_EXPIRED, "the token expired: renew it before expiry")
    session.close(CloseReason(grpc.StatusCode.UNAUTHENTICATED, expired.message,
                              trailers=trailing_metadata_of(expired)))  # fmt: skip


def method_handlers(servicer: DeliveryServicer) -> grpc.GenericRpcHandler:
    """Connect with a pass-through response serializer: frames are encoded once per event by the
    router and written as bytes to every session."""
    return grpc.method_handlers_generic_handler(
        SERVICE_NAME,
        {
            "Connect": grpc.stream_stream_rpc_method_handler(
                servicer.connect,
                request_deserializer=pb.ClientFrame.FromString,
                response_serializer=None,
            )
        },
    )
