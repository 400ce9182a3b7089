"""Read-model rows the projection writes (absolute upserts and deletes) and per-user notices."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, ClassVar

from parley.domain.conversations import ConversationType
from parley.domain.events import Content, Event, MediaContent, MessageSent, MessageType, Priority

PROJECTOR_NAME = "read_models"  # the projector of these tables, as projection_positions names it
MAX_CONVERSATIONS = 5_000  # conversations a user's list answers: a bounded partition
MAX_MENTION_ALL = 100  # newest mention-all rows read after a seq


class Keyed:
    """A row write or a notice, named by a tag of its table and its key columns: a batch keeps
    only the last of each key (projection_fold). A class states both where it is declared,
    `class HeadRow(Keyed, table="head", key=("conversation_key",))`; subclasses inherit them."""

    TABLE: ClassVar[str]
    KEY_COLUMNS: ClassVar[tuple[str, ...]]

    def __init_subclass__(cls, table: str = "", key: tuple[str, ...] = (), **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if table:
            cls.TABLE, cls.KEY_COLUMNS = table, key

    @property
    def key(self) -> tuple[object, ...]:
        return (self.TABLE, *(getattr(self, column) for column in self.KEY_COLUMNS))


@dataclass(frozen=True)
class HistoryKey(Keyed, table="history", key=("conversation_key", "seq")):
    """Where a message stands in messages_by_conversation: the row and its recall share it."""

    conversation_key: str
    seq: int


@dataclass(frozen=True)
class HistoryRow(HistoryKey):
    """messages_by_conversation: the full value of one stored message."""

    message_id: str
    sender_id: str
    sent_at_ms: int
    message_type: MessageType
    content: Content | None  # None once recalled: the content is withheld
    mentioned_user_ids: tuple[str, ...]
    mention_all: bool
    priority: Priority
    reply_to_message_id: str
    ext: tuple[tuple[str, str], ...]
    receipt_requested: bool
    masked: bool
    event_offset: int
    recalled: bool = False
    recalled_by: str = ""
    recalled_at_ms: int = 0

    @classmethod
    def of_sent(cls, event: Event, sent: MessageSent, seq: int, event_offset: int) -> HistoryRow:
        """The message as history stores it (seq 0: a command or barrage, pushed, never stored)."""
        return cls(
            event.conversation_key, seq, sent.message_id, event.actor, event.server_time_ms,
            sent.type, sent.content, sent.mentioned_user_ids, sent.mention_all, sent.priority,
            sent.reply_to_message_id, sent.ext, sent.receipt_requested, sent.masked, event_offset,
        )  # fmt: skip


@dataclass(frozen=True)
class HistoryRecalled(HistoryKey):
    """The recall columns of a history row (recalled, by, when, content withheld)."""

    recalled_by: str
    recalled_at_ms: int
    event_offset: int

    def applied_to(self, row: HistoryRow) -> HistoryRow:
        """The row as this recall leaves it: recalled, by whom and when, its content withheld."""
        return replace(
            row,
            content=None,
            recalled=True,
            recalled_by=self.recalled_by,
            recalled_at_ms=self.recalled_at_ms,
            event_offset=self.event_offset,
        )


@dataclass(frozen=True)
class MessageByIdKey(Keyed, table="message_by_id", key=("message_id",)):
    """A message in messages_by_id: the row and its recall share it."""

    message_id: str


@dataclass(frozen=True)
class MessageByIdRow(MessageByIdKey):
    """messages_by_id: what the write-side rules need about a stored message of any age (the
    message archive), by its id alone: a receipt, a recall, a forward, a retried send; and where
    it sits in its conversation (GetMessage by id, the projector's look-ups of old messages)."""

    conversation_key: str
    seq: int
    sender_id: str
    sent_at_ms: int
    order_key: int  # the send's Kafka offset: its receipt's order key
    masked: bool
    content_digest: bytes  # message_ids.content_digest of the stored content
    fingerprint: str  # message_ids.fingerprint_of_event: tells a retry from a reused id
    receipt_requested: bool
    event_offset: int
    recalled: bool = False


@dataclass(frozen=True)
class MessageByIdRecalled(MessageByIdKey):
    """The recall columns of a messages_by_id row."""

    event_offset: int

    def applied_to(self, row: MessageByIdRow) -> MessageByIdRow:
        return replace(row, recalled=True, event_offset=self.event_offset)


@dataclass(frozen=True)
class MediaUploadRow(Keyed, table="media_upload", key=("object_id",)):
    """media_by_object: one validated upload (the media archive)."""

    object_id: str
    owner_id: str
    content: MediaContent
    uploaded_at_ms: int
    event_offset: int  # in the uploader's stream "u:<id>"


@dataclass(frozen=True)
class MediaAttachmentKey(Keyed, table="media_attachment", key=("object_id", "message_id")):
    """One object in one message, in media_attachments_by_object: the row and its recall share
    it."""

    object_id: str
    message_id: str


@dataclass(frozen=True)
class MediaAttachmentRow(MediaAttachmentKey):
    """media_attachments_by_object, media_objects_by_message and, for rooms,
    media_objects_by_room: one stored message carrying one object. Its write leaves the
    recalled column alone unless `recalled` (a recall folded into it in the same batch, at
    `recall_offset`: the attachment's event_offset is then the recall's, as the recall's own
    write would leave it)."""

    conversation_key: str
    sent_at_ms: int
    event_offset: int  # of the send
    recalled: bool = False
    recall_offset: int = -1


@dataclass(frozen=True)
class MediaAttachmentRecalled(MediaAttachmentKey):
    """The recalled column of a media_attachments_by_object row (set, never unset)."""

    event_offset: int

    def applied_to(self, row: MediaAttachmentRow) -> MediaAttachmentRow:
        return replace(row, recalled=True, recall_offset=self.event_offset)


@dataclass(frozen=True)
class HeadRow(Keyed, table="head", key=("conversation_key",)):
    """conversation_heads: last seq and last message summary of a conversation."""

    conversation_key: str
    conversation_type: ConversationType
    last_seq: int
    last_message_id: str
    last_sender_id: str
    last_message_type: int
    last_preview: str
    last_recalled: bool
    last_activity_ms: int  # ms since the epoch: the last message's server time
    dismissed: bool
    event_offset: int
    title: str = ""  # a group's or room's name, given when it was created; "" for peers


@dataclass(frozen=True)
class UserConversationRow(Keyed, table="user_conversation", key=("user_id", "conversation_key")):
    """conversations_by_user: one user's positions in one conversation."""

    user_id: str
    conversation_key: str
    conversation_type: ConversationType
    read_seq: int
    delivered_seq: int
    joined_seq: int
    until_seq: int  # -1 while a member; else the last seq a former member may see
    hidden_through_seq: int
    cleared_through_seq: int
    event_offset: int


@dataclass(frozen=True)
class MentionKey(Keyed, table="mention", key=("user_id", "conversation_key", "seq")):
    """A mention of one user in mentions_by_user: the row and its deletion (once read) share it."""

    user_id: str
    conversation_key: str
    seq: int


@dataclass(frozen=True)
class MentionRow(MentionKey):
    """mentions_by_user: a message that mentions the user (or everyone), not yet read."""

    message_id: str
    sender_id: str
    event_offset: int


@dataclass(frozen=True)
class MentionDeleted(MentionKey):
    """A mention read or recalled: its row is deleted."""


@dataclass(frozen=True)
class MentionAllKey(Keyed, table="mention_all", key=("conversation_key", "seq")):
    """A mention of everyone in mention_all_by_conversation: the row and its deletion share it."""

    conversation_key: str
    seq: int


@dataclass(frozen=True)
class MentionAllRow(MentionAllKey):
    """mention_all_by_conversation: a message that mentions everyone."""

    message_id: str
    sender_id: str
    event_offset: int


@dataclass(frozen=True)
class MentionAllDeleted(MentionAllKey):
    """A mention of everyone recalled: its row is deleted."""


@dataclass(frozen=True)
class ReaderRow(Keyed, table="reader", key=("conversation_key", "seq", "reader_id")):
    """readers_by_message: one reader of a receipt-requested group message."""

    conversation_key: str
    seq: int
    reader_id: str
    read_at_ms: int  # ms since the epoch: server time of the event that read it
    event_offset: int


@dataclass(frozen=True)
class HistoryErased(Keyed, table="erase", key=("conversation_key",)):
    """The whole history of a conversation is deleted (a dismissed room)."""

    conversation_key: str


RowWrite = (
    HistoryRow
    | HistoryRecalled
    | MessageByIdRow
    | MessageByIdRecalled
    | HeadRow
    | UserConversationRow
    | MentionRow
    | MentionDeleted
    | MentionAllRow
    | MentionAllDeleted
    | ReaderRow
    | HistoryErased
    | MediaUploadRow
    | MediaAttachmentRow
    | MediaAttachmentRecalled
)


@dataclass(frozen=True)
class ConversationChanged(Keyed, table="conversation", key=("user_id", "conversation_key")):
    """Notice to one user: their view of a conversation changed."""

    user_id: str
    conversation_key: str
    conversation_type: ConversationType
    last_seq: int
    read_seq: int
    unread: int
    mention_count: int
    last_message_id: str
    last_sender_id: str
    last_preview: str
    last_activity_ms: int
    hidden: bool
    event_offset: int


@dataclass(frozen=True)
class ReceiptChanged(
    Keyed, table="receipt", key=("user_id", "conversation_key", "seq", "reader_id", "read")
):
    """Notice to a sender: a message was delivered or read (peer: up to `seq`)."""

    user_id: str
    conversation_key: str
    seq: int
    message_id: str
    reader_id: str
    read: bool  # False: delivered
    read_count: int  # groups: readers so far; peers: 1 once read
    event_offset: int


Notice = ConversationChanged | ReceiptChanged
