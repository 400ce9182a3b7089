"""Commands: what a caller asks the write side to do, and what an accepted send is answered with."""

from __future__ import annotations

from dataclasses import dataclass

from parley.domain.conversations import Conversation, ConversationType
from parley.domain.events import Content, Event, Payload, Priority


@dataclass(frozen=True)
class Stamp:
    """The ingress-side facts of one request: when, under which event id, for which request."""

    now_ms: int  # milliseconds since the Unix epoch
    event_id: str
    request_id: str = ""

    def event(
        self,
        conversation: Conversation,
        actor: str,
        payload: Payload,
        *,
        event_id: str | None = None,
        client_message_id: str = "",
    ) -> Event:
        """The event a decision appends, carrying this request's time, ids and trace."""
        return Event(
            event_id=self.event_id if event_id is None else event_id,
            conversation_key=conversation.key,
            conversation_type=conversation.type,
            actor=actor,
            server_time_ms=self.now_ms,
            payload=payload,
            client_message_id=client_message_id,
            request_id=self.request_id,
        )


@dataclass(frozen=True)
class SendCommand:
    sender: str
    conversation_type: ConversationType
    target_id: str  # peer: the other user; group: group id; room: room id
    client_message_id: str
    content: Content
    mentioned_user_ids: tuple[str, ...] = ()
    mention_all: bool = False
    priority: Priority = Priority.LOW
    reply_to_message_id: str = ""
    ext: tuple[tuple[str, str], ...] = ()  # sorted (key, value) pairs
    receipt_requested: bool = False
    # The client repeats a send whose answer it lost: past the ledger's window, look it up.
    retry: bool = False


@dataclass(frozen=True)
class SendReceipt:
    """The answer to an accepted send; a retry of the same send gets the same receipt back."""

    message_id: str
    order_key: int  # the event's offset in its conversation's partition
    server_time_ms: int
    conversation_key: str
    duplicate: bool = False
    masked: bool = False
