"""Plain values of the client SDK: conversations, message bodies, sent and stored messages."""

from __future__ import annotations

from dataclasses import dataclass, field

from parley.adapters.wire import content_from_proto, content_to_proto
from parley.adapters.wire_fields import from_message
from parley.domain.conversations import ConversationType as ConversationType
from parley.domain.events import BarrageContent, CommandContent, CustomContent, TextContent
from parley.domain.events import MessageType as MessageType
from parley.domain.events import Priority as Priority
from parley.gen.parley.v1 import common_pb2, query_pb2

_KEY_PREFIX = {"p": ConversationType.PEER, "r": ConversationType.ROOM, "g": ConversationType.GROUP}


@dataclass(frozen=True)
class Conversation:
    """A conversation as its user names it: the other user's id for a peer conversation."""

    type: ConversationType
    id: str

    @classmethod
    def peer(cls, user_id: str) -> Conversation:
        return cls(ConversationType.PEER, user_id)

    @classmethod
    def group(cls, group_id: str) -> Conversation:
        return cls(ConversationType.GROUP, group_id)

    @classmethod
    def room(cls, room_id: str) -> Conversation:
        return cls(ConversationType.ROOM, room_id)

    @classmethod
    def from_key(cls, key: str, me: str) -> Conversation:
        """From a log key ("p:<low>:<high>", "g:<id>", "r:<id>") as seen by user `me`."""
        prefix, _, rest = key.partition(":")
        kind = _KEY_PREFIX[prefix]
        if kind is ConversationType.PEER:
            low, _, high = rest.partition(":")
            return cls(kind, high if low == me else low)
        return cls(kind, rest)

    def key(self, me: str) -> str:
        """The log key of this conversation for user `me`."""
        if self.type is ConversationType.PEER:
            low, high = sorted((me, self.id))
            return f"p:{low}:{high}"
        return f"{'g' if self.type is ConversationType.GROUP else 'r'}:{self.id}"

    def to_proto(self) -> common_pb2.ConversationRef:
        return common_pb2.ConversationRef(type=int(self.type), id=self.id)  # type: ignore[arg-type]

    def __str__(self) -> str:
        return f"{self.type.name.lower()}:{self.id}"


# Message bodies are the domain's contents under the names of the reference SDKs, so a body
# sent here and the content stored, hooked and delivered are one type with one wire form.
Text = TextContent
Command = CommandContent
Barrage = BarrageContent
Custom = CustomContent
Body = Text | Command | Barrage | Custom


def body_to_proto(body: Body | str) -> common_pb2.MessageBody:
    """The wire form of a body; a str is a Text."""
    return content_to_proto(Text(body) if isinstance(body, str) else body)


def body_from_proto(body: common_pb2.MessageBody) -> Body | None:
    """The body; None for content this SDK leaves to the raw message (media, composites) or does
    not know yet."""
    if body.WhichOneof("content") is None:
        return None
    content = content_from_proto(body)
    return content if isinstance(content, Body) else None


def preview_of(body: Body | None) -> str:
    """What a conversation list or a terminal shows for a body."""
    if isinstance(body, Text | Barrage):
        return body.text
    if isinstance(body, Custom):
        return body.searchable_content or f"[custom {body.sub_type}]"
    if isinstance(body, Command):
        return f"[command {len(body.data)} bytes]"
    return "[unsupported]"


@dataclass(frozen=True)
class SentMessage:
    """The answer to a send: the message is in the log (retry with the same id is safe)."""

    client_message_id: str
    message_id: str
    order_key: int
    server_time_ms: int
    conversation_key: str
    duplicate: bool = False
    masked: bool = False


@dataclass(frozen=True)
class Message:
    """A stored (seq >= 1) or signalling (seq 0) message, from history or delivered live."""

    conversation: Conversation
    conversation_key: str
    seq: int
    message_id: str
    sender_id: str
    sent_at_ms: int
    type: MessageType
    body: Body | None
    mentioned_user_ids: tuple[str, ...] = ()
    mention_all: bool = False
    recalled: bool = False
    recalled_by: str = ""
    client_message_id: str = ""
    order_key: int = 0
    live: bool = False

    @property
    def text(self) -> str:
        return "(recalled)" if self.recalled else preview_of(self.body)

    @classmethod
    def from_proto(cls, m: query_pb2.HistoryMessage, me: str, **extra: object) -> Message:
        return from_message(
            cls,
            m,
            conversation=Conversation.from_key(m.conversation_key, me),
            type=_message_type(m.type),
            body=body_from_proto(m.body) if m.HasField("body") else None,
            **extra,
        )


def _message_type(value: int) -> MessageType:
    try:
        return MessageType(value)
    except ValueError:
        return MessageType.UNKNOWN


@dataclass(frozen=True)
class Mention:
    seq: int
    message_id: str
    sender_id: str
    everyone: bool


@dataclass(frozen=True)
class ConversationInfo:
    """One row of the conversation list, with unread count and unread mentions."""

    conversation: Conversation
    conversation_key: str
    last_seq: int
    read_seq: int
    unread_count: int
    mentions: tuple[Mention, ...] = ()
    last_message_id: str = ""
    last_sender_id: str = ""
    last_preview: str = ""
    last_recalled: bool = False
    last_activity_ms: int = 0
    is_member: bool = True
    dismissed: bool = False
    name: str = ""  # a group's or room's name; "" for peers

    @classmethod
    def from_proto(cls, s: query_pb2.ConversationSummary) -> ConversationInfo:
        return from_message(
            cls,
            s,
            conversation=Conversation(ConversationType(s.conversation.type), s.conversation.id),
            mentions=tuple(mention_from_proto(m) for m in s.mentions),
        )


def mention_from_proto(m: query_pb2.Mention) -> Mention:
    return Mention(m.seq, m.message_id, m.sender_id, m.type == query_pb2.MENTION_TYPE_ALL)


@dataclass(frozen=True)
class HistoryPage:
    messages: list[Message]
    next_cursor_seq: int  # 0: nothing more in this direction


@dataclass(frozen=True)
class Receipts:
    seq: int
    message_id: str
    delivered: bool
    read: bool
    read_count: int
    readers: tuple[str, ...] = field(default=())
