"""MessagingService: send, recall, acknowledge, read and delete, each one event on the log."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import grpc

from parley import metrics
from parley.adapters import wire
from parley.domain.acks import (
    AckKind,
    decide_ack,
    decide_conversation_read,
    decide_delete_conversation,
)
from parley.domain.conversations import ConversationType
from parley.domain.errors import Rejected
from parley.domain.recall import decide_recall
from parley.gen.parley.v1 import common_pb2, ingress_pb2_grpc
from parley.gen.parley.v1 import ingress_pb2 as pb
from services.shell.auth import current_caller
from services.writes.context import IngressContext

log = logging.getLogger(__name__)

# Sends of one stream that may wait for Kafka at the same time: bounds memory per stream.
STREAM_WINDOW = 512


class MessagingServicer(ingress_pb2_grpc.MessagingServiceServicer):
    def __init__(self, ingress: IngressContext) -> None:
        self._ingress = ingress

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
        caller = current_caller().user_id
        entry = self._ingress.model.sends.lookup(caller, request.client_message_id)
        if entry is not None:
            receipt = entry.receipt
        else:  # past the ledger's window, a stored message is in the archive
            archived = await self._ingress.messages.send_status(caller, request.client_message_id)
            if archived is None:
                return pb.GetSendStatusResponse(status=pb.SEND_STATUS_UNKNOWN)
            receipt = archived.receipt
        return pb.GetSendStatusResponse(
            status=pb.SEND_STATUS_ACCEPTED,
            message_id=receipt.message_id,
            order_key=receipt.order_key,
            conversation_key=receipt.conversation_key,
            server_time_ms=receipt.server_time_ms,
        )

    async def RecallMessage(
        self, request: pb.RecallMessageRequest, context: Any
    ) -> pb.RecallMessageResponse:
        ingress = self._ingress
        archived = await ingress.archived(request.message_id, "recall")
        kind, conversation_id = _conversation(request.conversation)
        order_key = await ingress.decide_as_caller(
            context,
            lambda actor, stamp: decide_recall(
                actor,
                kind,
                conversation_id,
                request.message_id,
                ingress.model,
                ingress.limits,
                stamp,
                archived,
            ),
            settle=True,
        )
        return pb.RecallMessageResponse(order_key=order_key)

    async def AcknowledgeMessage(
        self, request: pb.AcknowledgeMessageRequest, context: Any
    ) -> pb.AcknowledgeMessageResponse:
        ingress = self._ingress
        ack = AckKind.READ if request.kind == pb.ACK_KIND_READ else AckKind.DELIVERED
        archived = await ingress.archived(request.message_id, "ack")
        kind, conversation_id = _conversation(request.conversation)
        order_key = await ingress.decide_as_caller(
            context,
            lambda actor, stamp: decide_ack(
                actor,
                kind,
                conversation_id,
                request.message_id,
                ack,
                ingress.model,
                stamp,
                archived,
            ),
        )
        return pb.AcknowledgeMessageResponse(order_key=order_key)

    async def MarkConversationRead(
        self, request: pb.MarkConversationReadRequest, context: Any
    ) -> pb.MarkConversationReadResponse:
        model = self._ingress.model
        kind, conversation_id = _conversation(request.conversation)
        order_key = await self._ingress.decide_as_caller(
            context,
            lambda actor, stamp: decide_conversation_read(
                actor, kind, conversation_id, request.up_to_seq, model, stamp
            ),
        )
        return pb.MarkConversationReadResponse(order_key=order_key)

    async def DeleteConversation(
        self, request: pb.DeleteConversationRequest, context: Any
    ) -> pb.DeleteConversationResponse:
        model = self._ingress.model
        kind, conversation_id = _conversation(request.conversation)
        order_key = await self._ingress.decide_as_caller(
            context,
            lambda actor, stamp: decide_delete_conversation(
                actor, kind, conversation_id, request.delete_history, model, stamp
            ),
        )
        return pb.DeleteConversationResponse(order_key=order_key)


def _conversation(ref: common_pb2.ConversationRef) -> tuple[ConversationType, str]:
    """The type (an unknown one is BAD_PARAMETER) and id of the conversation a request names."""
    return wire.conversation_type_from_proto(ref.type), ref.id
