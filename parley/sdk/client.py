"""ParleyClient: one user's connection to Parley (send, recall, acks, history, conversations)."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any, TypeVar

from parley.adapters.wire_fields import from_message
from parley.gen.parley.v1 import ingress_pb2, ingress_pb2_grpc, query_pb2, query_pb2_grpc
from parley.sdk.errors import ParleyError
from parley.sdk.management import Contacts, Groups, Rooms
from parley.sdk.rpc import Closing, call, channel_for
from parley.sdk.session import EventStream
from parley.sdk.types import (
    Body,
    Conversation,
    ConversationInfo,
    HistoryPage,
    Mention,
    Message,
    Priority,
    Receipts,
    SentMessage,
    body_to_proto,
    mention_from_proto,
)

R = TypeVar("R")
SEND_ATTEMPTS = 4


class ParleyClient(Closing):
    """Build with `await ParleyClient.connect(target, token)`; `async with` closes it.

    `target` serves the write and read APIs (ingress), `delivery_target` the session stream
    used by `events()` (defaults to `target`). `user_id` is the token's subject.
    """

    def __init__(
        self, target: str, token: str, user_id: str, delivery_target: str | None = None
    ) -> None:
        self.user_id = user_id
        self.token = token
        self._channel = channel_for(target)
        self._delivery_channel = (
            channel_for(delivery_target) if delivery_target not in (None, target) else None
        )
        self.messaging = ingress_pb2_grpc.MessagingServiceStub(self._channel)
        self.history = query_pb2_grpc.HistoryServiceStub(self._channel)
        self.conversations = query_pb2_grpc.ConversationServiceStub(self._channel)
        self.receipts = query_pb2_grpc.ReceiptServiceStub(self._channel)
        self.groups = Groups(self._channel, self._call)
        self.rooms = Rooms(self._channel, self._call)
        self.contacts = Contacts(self._channel, self._call)
        self._stream: EventStream | None = None

    @classmethod
    async def connect(
        cls, target: str, token: str, *, delivery_target: str | None = None
    ) -> ParleyClient:
        """Opens the channels; the user id is read from the token (it is verified server-side)."""
        client = cls(target, token, subject_of(token), delivery_target)
        await asyncio.wait_for(client._channel.channel_ready(), 10.0)
        return client

    async def close(self) -> None:
        if self._stream is not None:
            await self._stream.close()
        if self._delivery_channel is not None:
            await self._delivery_channel.close()
        await self._channel.close()

    @property
    def metadata(self) -> tuple[tuple[str, str]]:
        return (("authorization", f"Bearer {self.token}"),)

    async def _call(self, method: Callable[..., Awaitable[R]], request: Any) -> R:
        return await call(method, request, self.metadata)

    # --- sending -----------------------------------------------------------------------------

    async def send(
        self,
        conversation: Conversation,
        body: Body | str,
        *,
        client_message_id: str | None = None,
        mentions: Sequence[str] = (),
        mention_all: bool = False,
        priority: Priority = Priority.LOW,
        reply_to: str = "",
        ext: dict[str, str] | None = None,
        receipt_requested: bool = False,
        retry: bool = False,
    ) -> SentMessage:
        """Sends once, however often the network fails: every retry carries the same client
        message id, so the server answers a retry with the original message (duplicate=True).
        Without `client_message_id` the SDK makes one (the server requires it). A rate-limited
        send is sent again after the server's retry delay. Pass `retry=True` when the app
        resends a send whose answer it never got (say after a restart): the SDK marks its own
        resends so, and the server then finds the original even past its idempotency window."""
        cmid = client_message_id or uuid.uuid4().hex
        request = ingress_pb2.SendMessageRequest(
            conversation=conversation.to_proto(),
            client_message_id=cmid,
            body=body_to_proto(body),
            mentioned_user_ids=list(mentions),
            mention_all=mention_all,
            priority=int(priority),  # type: ignore[arg-type]
            reply_to_message_id=reply_to,
            ext=ext or {},
            receipt_requested=receipt_requested,
            retry=retry,
        )
        for attempt in range(SEND_ATTEMPTS):
            request.retry = retry or attempt > 0
            try:
                reply = await self._call(self.messaging.SendMessage, request)
                break
            except ParleyError as error:
                if not error.is_retryable or attempt == SEND_ATTEMPTS - 1:
                    raise
                # The server's hint when it gave one (a rate limit), else exponential backoff.
                delay_s = error.retry_delay_s
                await asyncio.sleep(0.2 * 2**attempt if delay_s is None else delay_s)
        return from_message(SentMessage, reply, client_message_id=cmid)

    async def send_status(self, client_message_id: str) -> SentMessage | None:
        """The real outcome of a send you are unsure about; None: never accepted, send again."""
        reply = await self._call(
            self.messaging.GetSendStatus,
            ingress_pb2.GetSendStatusRequest(client_message_id=client_message_id),
        )
        if reply.status != ingress_pb2.SEND_STATUS_ACCEPTED:
            return None
        return from_message(SentMessage, reply, client_message_id=client_message_id, duplicate=True)

    async def _write(self, rpc: str, conversation: Conversation, **fields: Any) -> int:
        """Calls MessagingService.<rpc> about `conversation` (its request is <rpc>Request) and
        answers the order key of the event it appended."""
        request_type = getattr(ingress_pb2, f"{rpc}Request")
        request = request_type(conversation=conversation.to_proto(), **fields)
        reply = await self._call(getattr(self.messaging, rpc), request)
        return int(reply.order_key)

    async def recall(self, conversation: Conversation, message_id: str) -> int:
        return await self._write("RecallMessage", conversation, message_id=message_id)

    async def acknowledge(
        self, conversation: Conversation, message_id: str, *, read: bool = False
    ) -> int:
        """A delivered (or, with read=True, read) receipt for one message."""
        kind = ingress_pb2.ACK_KIND_READ if read else ingress_pb2.ACK_KIND_DELIVERED
        return await self._write(
            "AcknowledgeMessage", conversation, message_id=message_id, kind=kind
        )

    async def mark_read(self, conversation: Conversation, up_to_seq: int = 0) -> int:
        """Clears unread and mentions up to `up_to_seq` (0: everything so far)."""
        return await self._write("MarkConversationRead", conversation, up_to_seq=up_to_seq)

    async def delete_conversation(
        self, conversation: Conversation, *, delete_history: bool = False
    ) -> int:
        return await self._write("DeleteConversation", conversation, delete_history=delete_history)

    # --- reading -----------------------------------------------------------------------------

    async def history_page(
        self,
        conversation: Conversation,
        *,
        cursor_seq: int = 0,
        page_size: int = 20,
        oldest_first: bool = False,
    ) -> HistoryPage:
        """One page: newest first below `cursor_seq` (0: from the end), or oldest first above."""
        direction = (
            query_pb2.HISTORY_DIRECTION_OLDEST_FIRST
            if oldest_first
            else query_pb2.HISTORY_DIRECTION_NEWEST_FIRST
        )
        reply = await self._call(
            self.history.GetHistory,
            query_pb2.GetHistoryRequest(
                conversation=conversation.to_proto(),
                direction=direction,
                cursor_seq=cursor_seq,
                page_size=page_size,
            ),
        )
        messages = [Message.from_proto(m, self.user_id) for m in reply.messages]
        return HistoryPage(messages, reply.next_cursor_seq)

    async def history_after(
        self, conversation: Conversation, after_seq: int, up_to_seq: int = 0
    ) -> AsyncIterator[Message]:
        """Every stored message with after_seq < seq (<= up_to_seq when set), oldest first."""
        cursor = after_seq
        while True:
            page = await self.history_page(
                conversation, cursor_seq=cursor, page_size=100, oldest_first=True
            )
            for message in page.messages:
                if up_to_seq and message.seq > up_to_seq:
                    return
                yield message
            if not page.next_cursor_seq or not page.messages:
                return
            cursor = page.next_cursor_seq

    async def list_conversations(self, page_size: int = 100) -> list[ConversationInfo]:
        """Every peer and group conversation, most recent first, with unread and mentions."""
        result: list[ConversationInfo] = []
        cursor = ""
        while True:
            reply = await self._call(
                self.conversations.ListConversations,
                query_pb2.ListConversationsRequest(page_size=page_size, cursor=cursor),
            )
            result.extend(ConversationInfo.from_proto(s) for s in reply.conversations)
            if not reply.next_cursor:
                return result
            cursor = reply.next_cursor

    async def conversation(self, conversation: Conversation) -> ConversationInfo:
        reply = await self._call(
            self.conversations.GetConversation,
            query_pb2.GetConversationRequest(conversation=conversation.to_proto()),
        )
        return ConversationInfo.from_proto(reply)

    async def unread_total(self) -> int:
        reply = await self._call(
            self.conversations.GetUnreadTotal, query_pb2.GetUnreadTotalRequest()
        )
        return int(reply.unread_total)

    async def mentions(self, conversation: Conversation) -> list[Mention]:
        reply = await self._call(
            self.conversations.ListMentions,
            query_pb2.ListMentionsRequest(conversation=conversation.to_proto()),
        )
        return [mention_from_proto(m) for m in reply.mentions]

    async def receipts_of(self, conversation: Conversation, message_id: str) -> Receipts:
        reply = await self._call(
            self.receipts.GetReceipts,
            query_pb2.GetReceiptsRequest(
                conversation=conversation.to_proto(), message_id=message_id
            ),
        )
        return from_message(Receipts, reply, readers=tuple(r.user_id for r in reply.readers))

    # --- live events -------------------------------------------------------------------------

    def events(self, *, device: str = "parley-sdk") -> EventStream:
        """The session stream as an async iterator of typed events; it reconnects by itself,
        resumes from the last seq held per conversation and fills gaps from history."""
        if self._stream is None:
            channel = self._delivery_channel or self._channel
            self._stream = EventStream(self, channel, device=device)
        return self._stream


def subject_of(token: str) -> str:
    """The `sub` claim of a JWT, read without verifying it (the server verifies every call)."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return str(claims["sub"])
    except (IndexError, ValueError, KeyError) as error:
        raise ParleyError("UNAUTHENTICATED", 1003, "token is not a Parley JWT") from error
