"""Domain events: every durable change in Parley, as pure values (the wire form is events.proto)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

from parley.domain.conversations import ConversationType


class MessageType(IntEnum):
    """Numbers match the reference SDKs and parley.v1.MessageType."""

    UNKNOWN = 0  # no content has it: what a reader (the SDK) names a type newer than itself
    TEXT = 1
    COMMAND = 2
    MULTIPLE = 10
    IMAGE = 11
    FILE = 12
    AUDIO = 13
    VIDEO = 14
    BARRAGE = 20
    COMBINE = 100
    CUSTOM = 200
    TIPS = 300


class Priority(IntEnum):
    LOW = 0
    MEDIUM = 1
    HIGH = 2


class GroupRole(IntEnum):
    MEMBER = 0
    ADMIN = 1
    OWNER = 2


@dataclass(frozen=True)
class TextContent:
    text: str


@dataclass(frozen=True)
class CommandContent:
    """Signalling: never stored, reaches online recipients only."""

    data: bytes


@dataclass(frozen=True)
class BarrageContent:
    """Room danmaku: never stored, may be dropped under load."""

    text: str


@dataclass(frozen=True)
class CustomContent:
    sub_type: int
    data: str
    searchable_content: str = ""


@dataclass(frozen=True)
class Picture:
    """A still rendition: an image's thumbnail or large image, a video's first frame."""

    width: int = 0
    height: int = 0
    size_bytes: int = 0
    url: str = ""  # media hosted elsewhere only; uploaded renditions are fetched by object id


@dataclass(frozen=True)
class MediaRef:
    """The bytes behind a media message: an uploaded object (by id) or an external URL."""

    object_id: str = ""
    url: str = ""
    file_name: str = ""
    size_bytes: int = 0
    mime_type: str = ""  # detected from the content


@dataclass(frozen=True)
class ImageContent:
    media: MediaRef
    width: int = 0
    height: int = 0
    thumbnail: Picture = Picture()
    large: Picture = Picture()


@dataclass(frozen=True)
class FileContent:
    media: MediaRef


@dataclass(frozen=True)
class AudioContent:
    media: MediaRef
    duration_ms: int = 0


@dataclass(frozen=True)
class VideoContent:
    media: MediaRef
    duration_ms: int = 0
    width: int = 0
    height: int = 0
    first_frame: Picture = Picture()


@dataclass(frozen=True)
class MultipleContent:
    items: tuple[Content, ...]


@dataclass(frozen=True)
class ForwardedMessage:
    """A snapshot inside a merged forward; `sent_at_ms` is filled from the original."""

    message_id: str
    sender_id: str
    content: Content
    sent_at_ms: int = 0


@dataclass(frozen=True)
class CombineContent:
    title: str
    messages: tuple[ForwardedMessage, ...]
    summary: str = ""


MediaContent = ImageContent | FileContent | AudioContent | VideoContent

Content = (
    TextContent
    | CommandContent
    | BarrageContent
    | CustomContent
    | ImageContent
    | FileContent
    | AudioContent
    | VideoContent
    | MultipleContent
    | CombineContent
)

CONTENT_TYPES: dict[type, MessageType] = {
    TextContent: MessageType.TEXT,
    CommandContent: MessageType.COMMAND,
    BarrageContent: MessageType.BARRAGE,
    CustomContent: MessageType.CUSTOM,
    ImageContent: MessageType.IMAGE,
    FileContent: MessageType.FILE,
    AudioContent: MessageType.AUDIO,
    VideoContent: MessageType.VIDEO,
    MultipleContent: MessageType.MULTIPLE,
    CombineContent: MessageType.COMBINE,
}


def type_of(content: Content) -> MessageType:
    return CONTENT_TYPES[type(content)]


# --- payloads -------------------------------------------------------------------------------


@dataclass(frozen=True)
class MessageSent:
    message_id: str
    content: Content
    recipient_id: str = ""
    mentioned_user_ids: tuple[str, ...] = ()
    mention_all: bool = False
    priority: Priority = Priority.LOW
    reply_to_message_id: str = ""
    ext: tuple[tuple[str, str], ...] = ()  # sorted (key, value) pairs: hashable and canonical
    receipt_requested: bool = False
    masked: bool = False
    # Set when the pre-send hook replaced the content: the send's fingerprint before, which
    # stays its fingerprint (message_ids.fingerprint_of_event), so a retry is still that send.
    original_fingerprint: str = ""

    @property
    def type(self) -> MessageType:
        return type_of(self.content)


@dataclass(frozen=True)
class MessageRecalled:
    message_id: str
    original_sender_id: str


@dataclass(frozen=True)
class MessageAcked:
    """Base of MessageDelivered and MessageRead: a recipient acknowledged one message."""

    message_id: str


class MessageDelivered(MessageAcked):
    """A recipient's device received the message."""


class MessageRead(MessageAcked):
    """A recipient read the message."""


@dataclass(frozen=True)
class ConversationRead:
    up_to_seq: int = 0  # 0: everything before this event in the log


@dataclass(frozen=True)
class ConversationDeleted:
    delete_history: bool = False


@dataclass(frozen=True)
class GroupCreated:
    group_id: str
    name: str
    owner_id: str
    member_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class GroupDismissed:
    pass


@dataclass(frozen=True)
class GroupMembersAdded:
    user_ids: tuple[str, ...]


@dataclass(frozen=True)
class GroupMembersRemoved:
    user_ids: tuple[str, ...]
    left: bool = False


@dataclass(frozen=True)
class GroupMemberRoleChanged:
    user_id: str
    role: GroupRole


@dataclass(frozen=True)
class GroupMemberMuted:
    user_id: str
    muted_until_ms: int  # 0 lifts the mute, -1 until lifted


@dataclass(frozen=True)
class GroupMuted:
    muted_until_ms: int  # 0 lifts the mute, -1 until lifted


@dataclass(frozen=True)
class GroupWhitelistChanged:
    added_user_ids: tuple[str, ...] = ()
    removed_user_ids: tuple[str, ...] = ()
    whitelist_only: bool = False


@dataclass(frozen=True)
class RoomCreated:
    room_id: str
    name: str


@dataclass(frozen=True)
class RoomEntered:
    pass


@dataclass(frozen=True)
class RoomLeft:
    pass


@dataclass(frozen=True)
class RoomDismissed:
    pass


# The membership changes of groups and of rooms, by kind (delivery pushes each to the members).
GROUP_EVENTS = (
    GroupCreated, GroupDismissed, GroupMembersAdded, GroupMembersRemoved, GroupMemberRoleChanged,
    GroupMemberMuted, GroupMuted, GroupWhitelistChanged,
)  # fmt: skip
ROOM_EVENTS = (RoomCreated, RoomEntered, RoomLeft, RoomDismissed)


@dataclass(frozen=True)
class BlockChanged:
    """Base of UserBlocked and UserUnblocked: the actor's blacklist gained or lost a user."""

    blocked_user_id: str


class UserBlocked(BlockChanged):
    """The blocker (Event.actor) no longer receives peer messages from the user."""


class UserUnblocked(BlockChanged):
    """The blocker receives the user's peer messages again."""


@dataclass(frozen=True)
class BroadcastSent:
    message_id: str
    content: Content


@dataclass(frozen=True)
class MediaUploaded:
    """A validated upload, on the uploader's stream; `content` is what a message will carry."""

    content: MediaContent


Payload = (
    MessageSent
    | MessageRecalled
    | MessageDelivered
    | MessageRead
    | ConversationRead
    | ConversationDeleted
    | GroupCreated
    | GroupDismissed
    | GroupMembersAdded
    | GroupMembersRemoved
    | GroupMemberRoleChanged
    | GroupMemberMuted
    | GroupMuted
    | GroupWhitelistChanged
    | RoomCreated
    | RoomEntered
    | RoomLeft
    | RoomDismissed
    | UserBlocked
    | UserUnblocked
    | BroadcastSent
    | MediaUploaded
)


@dataclass(frozen=True)
class Event:
    """One entry of the log. Its position (partition, offset) is assigned by the log."""

    event_id: str
    conversation_key: str
    conversation_type: ConversationType
    actor: str
    server_time_ms: int  # milliseconds since the Unix epoch, taken by the ingress
    payload: Payload
    client_message_id: str = ""
    request_id: str = ""


@dataclass(frozen=True, order=True)
class Position:
    """Where an event sits in the log: its offset grows with the log within a partition."""

    partition: int
    offset: int


@dataclass(frozen=True)
class Logged:
    """An event together with the position the log gave it."""

    event: Event
    position: Position
    topic: str = field(default="")
