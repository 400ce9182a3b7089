"""MessagingService: send, recall, acknowledge, read and delete, each one event on the log."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any, NamedTuple

import grpc

from parley import metrics
from parley.adapters import wire
from parley.domain.acks import (
    decide_ack,
    decide_conversation_read,
    decide_delete_conversation,
)
from parley.domain.commands import Stamp
from parley.domain.conversations import ConversationType
from parley.domain.errors import Rejected
from parley.domain.events import Event
from parley.domain.message_archive import ArchivedMessages
from parley.domain.recall import decide_recall
from parley.gen.parley.v1 import common_pb2, ingress_pb2_grpc
from parley.gen.parley.v1 import ingress_pb2 as pb
from services.ingress.decided import DecidedRpc, IngressServicer, order_key_answer
from services.shell.auth import current_caller

log = logging.getLogger(__name__)

# Sends of one stream that may wait for Kafka at the same time: bounds memory per stream.
STREAM_WINDOW = 512


class MessagingServicer(IngressServicer, ingress_pb2_grpc.MessagingServiceServicer):
    async def SendMessage(
        self, request: pb.SendMessageRequest, context: Any
    ) -> pb.SendMessageResponse:
        command = wire.send_command_from_proto(request, current_caller().user_id)
        receipt = await self._ingress.sends.send(command, self._ingress.stamp(context))
        return wire.receipt_to_proto(receipt)

    async def SendMessageStream(
        self, request_iterator: AsyncIterator[pb.SendMessageRequest], context: Any
    ) -> AsyncIterator[pb.SendMessageResult]:
        sender = current_caller().user_id
        # A result per request, None once every request is answered, or the unexpected error
        # that ends the call (a request is never left unanswered: the client would wait for it).
        results: asyncio.Queue[pb.SendMessageResult | BaseException | None] = asyncio.Queue()
        window = asyncio.Semaphore(STREAM_WINDOW)

        async def one(request: pb.SendMessageRequest) -> None:
            try:
                command = wire.send_command_from_proto(request, sender)
                receipt = await self._ingress.sends.send(command, self._ingress.stamp(context))
                results.put_nowait(
                    pb.SendMessageResult(
                        client_message_id=request.client_message_id,
                        accepted=wire.receipt_to_proto(receipt),
                    )
                )
            except Rejected as rejected:
                metrics.rejected(rejected.reason.name)
                results.put_nowait(
                    pb.SendMessageResult(
                        client_message_id=request.client_message_id,
                        rejected=wire.rejection_to_proto(rejected),
                    )
                )
            except Exception as error:
                log.exception("a streamed send failed unexpectedly")
                results.put_nowait(error)
            finally:
                window.release()

        async def pump() -> None:
            running: set[asyncio.Task[None]] = set()
            try:
                async for request in request_iterator:
                    await window.acquire()
                    # Tasks start in creation order, so appends of one stream keep their order.
                    task = asyncio.create_task(one(request))
                    running.add(task)
                    task.add_done_callback(running.discard)
                await asyncio.gather(*running)
            finally:
                # Also when reading fails (an undecodable request aborts the call): the answer
                # loop must end, and awaiting the pump then raises what failed.
                results.put_nowait(None)

        pumping = asyncio.create_task(pump())
        try:
            while (result := await results.get()) is not None:
                if isinstance(result, BaseException):
                    await context.abort(
                        grpc.StatusCode.INTERNAL, "a send failed unexpectedly; retry it"
                    )
                    raise result  # abort raises; this only tells the type checker
                yield result
            await pumping
        finally:
            pumping.cancel()

    async def GetSendStatus(
        self, request: pb.GetSendStatusRequest, context: Any
    ) -> pb.GetSendStatusResponse:
        sender = current_caller().user_id
        receipt = await self._ingress.sends.status(sender, request.client_message_id)
        if receipt is None:
            return pb.GetSendStatusResponse(status=pb.SEND_STATUS_UNKNOWN)
        return pb.GetSendStatusResponse(
            status=pb.SEND_STATUS_ACCEPTED,
            message_id=receipt.message_id,
            order_key=receipt.order_key,
            conversation_key=receipt.conversation_key,
            server_time_ms=receipt.server_time_ms,
        )

    async def _about_message(
        self,
        context: Any,
        request: pb.RecallMessageRequest | pb.AcknowledgeMessageRequest,
        use: str,
        decide: Callable[[str, Stamp, _Target], Event],
        *,
        settle: bool = False,
    ) -> int:
        """Decides as the caller a request about one message: what the message archive holds
        about it is read first, for a message older than the index's window."""
        archived = await self._ingress.archived(request.message_id, use)
        kind, conversation_id = _conversation(request.conversation)
        target = _Target(kind, conversation_id, request.message_id, archived)
        return await self._ingress.decide_as_caller(
            context, lambda actor, stamp: decide(actor, stamp, target), settle=settle
        )

    async def RecallMessage(
        self, request: pb.RecallMessageRequest, context: Any
    ) -> pb.RecallMessageResponse:
        ingress = self._ingress

        def decide(actor: str, stamp: Stamp, t: _Target) -> Event:
            return decide_recall(
                actor,
                t.kind,
                t.conversation_id,
                t.message_id,
                ingress.model,
                ingress.limits,
                stamp,
                t.archived,
            )

        order_key = await self._about_message(context, request, "recall", decide, settle=True)
        return pb.RecallMessageResponse(order_key=order_key)

    async def AcknowledgeMessage(
        self, request: pb.AcknowledgeMessageRequest, context: Any
    ) -> pb.AcknowledgeMessageResponse:
        model = self._ingress.model
        ack = wire.ack_kind_from_proto(request.kind)

        def decide(actor: str, stamp: Stamp, t: _Target) -> Event:
            return decide_ack(
                actor, t.kind, t.conversation_id, t.message_id, ack, model, stamp, t.archived
            )

        order_key = await self._about_message(context, request, "ack", decide)
        return pb.AcknowledgeMessageResponse(order_key=order_key)

    def _mark_read(
        self, request: pb.MarkConversationReadRequest, actor: str, stamp: Stamp
    ) -> Event:
        kind, conversation_id = _conversation(request.conversation)
        return decide_conversation_read(
            actor, kind, conversation_id, request.up_to_seq, self._ingress.model, stamp
        )

    def _delete(self, request: pb.DeleteConversationRequest, actor: str, stamp: Stamp) -> Event:
        kind, conversation_id = _conversation(request.conversation)
        return decide_delete_conversation(
            actor, kind, conversation_id, request.delete_history, self._ingress.model, stamp
        )

    MarkConversationRead = DecidedRpc(_mark_read, order_key_answer(pb.MarkConversationReadResponse))
    DeleteConversation = DecidedRpc(_delete, order_key_answer(pb.DeleteConversationResponse))


class _Target(NamedTuple):
    """The message a recall or an acknowledgement is about, and what the archive holds on it."""

    kind: ConversationType
    conversation_id: str
    message_id: str
    archived: ArchivedMessages


def _conversation(ref: common_pb2.ConversationRef) -> tuple[ConversationType, str]:
    """The type (an unknown one is BAD_PARAMETER) and id of the conversation a request names."""
    return wire.conversation_type_from_proto(ref.type), ref.id
