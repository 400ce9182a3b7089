"""Read-model rows and notices to their protobuf form (query answers and user updates)."""

from __future__ import annotations

from parley.adapters.wire import content_to_proto
from parley.domain.read_models import ConversationChanged, HistoryRow, Notice
from parley.gen.parley.v1 import query_pb2, updates_pb2


def notice_to_proto(notice: Notice) -> updates_pb2.UserUpdate:
    update = updates_pb2.UserUpdate(
        user_id=notice.user_id,
        conversation_key=notice.conversation_key,
        event_offset=notice.event_offset,
    )
    if isinstance(notice, ConversationChanged):
        update.conversation_changed.CopyFrom(
            updates_pb2.ConversationChanged(
                conversation_type=int(notice.conversation_type),  # type: ignore[arg-type]
                last_seq=notice.last_seq,
                read_seq=notice.read_seq,
                unread_count=notice.unread,
                mention_count=notice.mention_count,
                last_message_id=notice.last_message_id,
                last_sender_id=notice.last_sender_id,
                last_preview=notice.last_preview,
                last_activity_ms=notice.last_activity_ms,
                hidden=notice.hidden,
            )
        )
    else:
        update.receipt_changed.CopyFrom(
            updates_pb2.ReceiptChanged(
                seq=notice.seq,
                message_id=notice.message_id,
                reader_id=notice.reader_id,
                read=notice.read,
                read_count=notice.read_count,
            )
        )
    return update


def encode_notice(notice: Notice) -> bytes:
    return notice_to_proto(notice).SerializeToString(deterministic=True)


def history_to_proto(row: HistoryRow) -> query_pb2.HistoryMessage:
    message = query_pb2.HistoryMessage(
        conversation_key=row.conversation_key,
        seq=row.seq,
        message_id=row.message_id,
        sender_id=row.sender_id,
        sent_at_ms=row.sent_at_ms,
        type=int(row.message_type),  # type: ignore[arg-type]
        mentioned_user_ids=list(row.mentioned_user_ids),
        mention_all=row.mention_all,
        priority=int(row.priority),  # type: ignore[arg-type]
        reply_to_message_id=row.reply_to_message_id,
        ext=dict(row.ext),
        receipt_requested=row.receipt_requested,
        masked=row.masked,
        recalled=row.recalled,
        recalled_by=row.recalled_by,
        recalled_at_ms=row.recalled_at_ms,
    )
    if row.content is not None:
        message.body.CopyFrom(content_to_proto(row.content))
    return message
