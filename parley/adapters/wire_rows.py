"""Read-model rows and notices to their protobuf form (query answers and user updates)."""

from __future__ import annotations

from parley.adapters.wire import content_to_proto
from parley.adapters.wire_fields import to_message
from parley.domain.read_models import ConversationChanged, HistoryRow, Notice
from parley.gen.parley.v1 import query_pb2, updates_pb2


def notice_to_proto(notice: Notice) -> updates_pb2.UserUpdate:
    if isinstance(notice, ConversationChanged):
        changed = to_message(updates_pb2.ConversationChanged, notice, unread_count=notice.unread)
        return to_message(updates_pb2.UserUpdate, notice, conversation_changed=changed)
    receipt = to_message(updates_pb2.ReceiptChanged, notice)
    return to_message(updates_pb2.UserUpdate, notice, receipt_changed=receipt)


def encode_notice(notice: Notice) -> bytes:
    return notice_to_proto(notice).SerializeToString(deterministic=True)


def history_to_proto(row: HistoryRow) -> query_pb2.HistoryMessage:
    message = to_message(query_pb2.HistoryMessage, row, type=row.message_type)
    if row.content is not None:
        message.body.CopyFrom(content_to_proto(row.content))
    return message
