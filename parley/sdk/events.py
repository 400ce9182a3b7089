"""Typed events of the session stream, as the reference SDKs name them, and their decoding."""

from __future__ import annotations

from dataclasses import dataclass

from parley.adapters.wire_fields import from_message
from parley.gen.parley.v1 import delivery_pb2, events_pb2, updates_pb2
from parley.sdk.types import Body, Conversation, ConversationType, Message, body_from_proto


@dataclass(frozen=True)
class Connected:
    """A session is open (first connect or reconnect); gap fill follows, then Synced."""

    session_id: str
    node_id: str


@dataclass(frozen=True)
class Synced:
    """Everything missed while offline has been delivered; what follows is live."""

    last_seqs: dict[str, int]


@dataclass(frozen=True)
class Disconnected:
    """The stream broke; the SDK reconnects by itself after `retry_in_s`."""

    reason: str
    retry_in_s: float


@dataclass(frozen=True)
class MessageReceived:
    """Base of PeerMessage, GroupMessage and RoomMessage: dispatch on the class or on
    `message.conversation.type`."""

    message: Message


class PeerMessage(MessageReceived):
    pass


class GroupMessage(MessageReceived):
    pass


class RoomMessage(MessageReceived):
    pass


@dataclass(frozen=True)
class ConversationEvent:
    """Base of the events about one conversation (Recalled, ConversationChanged, Receipt, Tip):
    the conversation as you name it, and its log key."""

    conversation: Conversation
    conversation_key: str


@dataclass(frozen=True)
class Recalled(ConversationEvent):
    message_id: str
    seq: int
    recalled_by: str
    recalled_at_ms: int


@dataclass(frozen=True)
class ConversationChanged(ConversationEvent):
    """New last message, unread count, mention count or hidden state of one conversation."""

    last_seq: int
    read_seq: int
    unread_count: int
    mention_count: int
    last_message_id: str
    last_sender_id: str
    last_preview: str
    last_activity_ms: int
    hidden: bool


@dataclass(frozen=True)
class Receipt(ConversationEvent):
    """One of your messages was delivered or read (peer reads: everything up to `seq`)."""

    seq: int
    message_id: str
    reader_id: str
    read: bool
    read_count: int


@dataclass(frozen=True)
class Tip(ConversationEvent):
    """A group or room operation (`kind` is the event name, e.g. "group_members_added")."""

    actor: str
    kind: str
    event: events_pb2.Event


@dataclass(frozen=True)
class Broadcast:
    message_id: str
    sender_id: str
    body: Body | None
    sent_at_ms: int


@dataclass(frozen=True)
class Presence:
    user_id: str
    online: bool
    changed_at_ms: int


@dataclass(frozen=True)
class TokenWillExpire:
    expires_at_ms: int


Event = (
    Connected
    | Synced
    | Disconnected
    | MessageReceived
    | Recalled
    | ConversationChanged
    | Receipt
    | Tip
    | Broadcast
    | Presence
    | TokenWillExpire
)

_MESSAGE_EVENT = {
    ConversationType.PEER: PeerMessage,
    ConversationType.GROUP: GroupMessage,
    ConversationType.ROOM: RoomMessage,
}


def message_event(message: Message) -> MessageReceived:
    return _MESSAGE_EVENT[message.conversation.type](message)


def message_from_frame(frame: delivery_pb2.DeliveredMessage, me: str) -> Message:
    return Message.from_proto(
        frame.message,
        me,
        client_message_id=frame.client_message_id,
        order_key=frame.order_key,
        live=frame.live,
    )


# The event of each kind of user update; its fields are the update's, plus the conversation.
_UPDATES: dict[str, type[ConversationChanged | Receipt]] = {
    "conversation_changed": ConversationChanged,
    "receipt_changed": Receipt,
}


def update_event(update: updates_pb2.UserUpdate, me: str) -> Event | None:
    kind = update.WhichOneof("update")
    if kind is None:
        return None
    return from_message(
        _UPDATES[kind],
        getattr(update, kind),
        conversation=Conversation.from_key(update.conversation_key, me),
        conversation_key=update.conversation_key,
    )


def simple_event(frame: delivery_pb2.ServerFrame, me: str) -> Event | None:
    """Frames that map one-to-one onto an event (messages and control frames excepted)."""
    kind = frame.WhichOneof("frame")
    if kind == "welcome":
        return from_message(Connected, frame.welcome)
    if kind == "recall":
        recall = frame.recall
        return from_message(
            Recalled, recall, conversation=Conversation.from_key(recall.conversation_key, me)
        )
    if kind == "update":
        return update_event(frame.update, me)
    if kind == "tip":
        event = frame.tip
        conversation = Conversation.from_key(event.conversation_key, me)
        payload = event.WhichOneof("payload") or ""
        return Tip(conversation, event.conversation_key, event.actor, payload, event)
    if kind == "broadcast":
        sent = frame.broadcast.broadcast_sent
        return Broadcast(
            sent.message_id,
            frame.broadcast.actor,
            body_from_proto(sent.body),
            frame.broadcast.server_time_ms,
        )
    if kind == "presence":
        return from_message(Presence, frame.presence)
    if kind == "token_will_expire":
        return TokenWillExpire(frame.token_will_expire.expires_at_ms)
    return None
