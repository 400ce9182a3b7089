"""The session stream: Hello with held positions, gap fill from history, reconnect with backoff."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

import grpc

from parley.gen.parley.v1 import delivery_pb2, delivery_pb2_grpc
from parley.sdk.errors import ParleyError
from parley.sdk.events import (
    Disconnected,
    Event,
    Synced,
    TokenWillExpire,
    message_event,
    message_from_frame,
    simple_event,
)
from parley.sdk.types import Conversation, Message

if TYPE_CHECKING:
    from parley.sdk.client import ParleyClient

FIRST_BACKOFF_S = 0.2
MAX_BACKOFF_S = 5.0
# Frames after which the server wants a fresh session: reconnect at once with our positions.
RECONNECT_FRAMES = frozenset({"go_away", "resync_required"})
# Frames the server may write as one batch when several are queued (Hello.max_batch).
MAX_BATCH = 64


def frames_of(written: Any) -> Sequence[Any]:
    """The ServerFrames one stream message carries, in order: a batch's frames, or itself."""
    if written.WhichOneof("frame") == "batch":
        frames: Sequence[Any] = written.batch.frames
        return frames
    return (written,)


class EventStream:
    """Iterate it once (`async for event in client.events()`); `positions` holds the last seq
    per conversation key, so a reconnect resumes where the previous session stopped.

    Stored messages arrive exactly once and in seq order per conversation: a seq at or below
    the one held is a duplicate and dropped; a jump is filled from HistoryService first.
    `renew_token`, when set, is awaited on TokenWillExpire and its token sent to the server.
    """

    def __init__(
        self,
        client: ParleyClient,
        channel: Any,
        *,
        device: str,
        auto_ack: bool = True,
        renew_token: Callable[[], Awaitable[str]] | None = None,
    ) -> None:
        self.positions: dict[str, int] = {}
        self.renew_token = renew_token
        self._client = client
        self._stub = delivery_pb2_grpc.DeliveryServiceStub(channel)
        self._device = device
        self._auto_ack = auto_ack
        self._resume = False
        self._call: Any = None
        self._closed = False

    def __aiter__(self) -> AsyncIterator[Event]:
        return self._run()

    async def close(self) -> None:
        self._closed = True
        if self._call is not None:
            self._call.cancel()

    async def _run(self) -> AsyncIterator[Event]:
        backoff = FIRST_BACKOFF_S
        while not self._closed:
            reason = "stream ended"
            try:
                async for event in self._session():
                    backoff = FIRST_BACKOFF_S
                    yield event
            except grpc.aio.AioRpcError as error:
                if self._closed or error.code() == grpc.StatusCode.CANCELLED:
                    return
                if error.code() == grpc.StatusCode.UNAUTHENTICATED:
                    raise ParleyError.from_rpc(error) from error
                reason = f"{error.code().name}: {error.details()}"
            except ParleyError as error:  # a gap fill failed: the server is going away
                reason = str(error)
            if self._closed:
                return
            yield Disconnected(reason, backoff)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF_S)

    async def _session(self) -> AsyncIterator[Event]:
        self._call = call = self._stub.Connect(metadata=self._client.metadata)
        hello = delivery_pb2.Hello(
            last_seqs=self.positions, resume=self._resume, device=self._device, max_batch=MAX_BATCH
        )
        await call.write(delivery_pb2.ClientFrame(hello=hello))
        while True:
            written = await call.read()
            if written is grpc.aio.EOF:
                return
            for frame in frames_of(written):
                kind = frame.WhichOneof("frame")
                if kind in RECONNECT_FRAMES:
                    call.cancel()
                    return
                async for event in self._events_of(frame, kind):
                    yield event

    async def _events_of(self, frame: Any, kind: str | None) -> AsyncIterator[Event]:
        me = self._client.user_id
        if kind == "message":
            message = message_from_frame(frame.message, me)
            async for event in self._accept(message):
                yield event
        elif kind == "gap":
            gap = frame.gap
            conversation = Conversation.from_key(gap.conversation_key, me)
            async for event in self._fill(conversation, gap.after_seq, gap.up_to_seq):
                yield event
        elif kind == "synced":
            for key, seq in frame.synced.last_seqs.items():
                self.positions[key] = max(seq, self.positions.get(key, 0))
            self._resume = True
            yield Synced(dict(frame.synced.last_seqs))
        else:
            simple = simple_event(frame, me)
            if simple is not None:
                yield simple
            if isinstance(simple, TokenWillExpire) and self.renew_token is not None:
                self._client.token = await self.renew_token()
                renew = delivery_pb2.RenewToken(token=self._client.token)
                await self._call.write(delivery_pb2.ClientFrame(renew_token=renew))

    async def _accept(self, message: Message) -> AsyncIterator[Event]:
        if message.seq == 0:  # command and barrage: not stored, no order to keep
            yield message_event(message)
            return
        key = message.conversation_key
        held = self.positions.get(key)
        if held is not None and message.seq <= held:
            return
        if held is not None and message.seq > held + 1:
            async for event in self._fill(message.conversation, held, message.seq - 1):
                yield event
        self.positions[key] = message.seq
        yield message_event(message)
        await self._ack(message)

    async def _fill(
        self, conversation: Conversation, after: int, up_to: int
    ) -> AsyncIterator[Event]:
        key = conversation.key(self._client.user_id)
        async for message in self._client.history_after(conversation, after, up_to):
            if message.seq > self.positions.get(key, 0):
                self.positions[key] = message.seq
                yield message_event(message)
                await self._ack(message)

    async def _ack(self, message: Message) -> None:
        if not self._auto_ack or message.sender_id == self._client.user_id:
            return
        acked = delivery_pb2.AckedMessage(
            conversation_key=message.conversation_key, message_id=message.message_id
        )
        frame = delivery_pb2.ClientFrame(delivered=delivery_pb2.DeliveredAck(messages=[acked]))
        await self._call.write(frame)
