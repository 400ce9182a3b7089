"""Shared by the query servicers: the caller's conversation, their history window, rejections."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from parley.adapters.cassandra_queries import CassandraReadModelQueries
from parley.adapters.wire import conversation_type_from_proto
from parley.domain.conversations import Conversation, ConversationType
from parley.domain.errors import Reason, Rejected
from parley.domain.read_access import SeqWindow, history_window
from parley.domain.read_models import HeadRow, UserConversationRow
from parley.gen.parley.v1 import common_pb2
from services.query.fence import ReadFence
from services.shell.auth import current_caller

R = TypeVar("R")


@dataclass(frozen=True)
class QueryDeps:
    """What the query servicers read from; `fence` holds reads back until the projection
    covers the caller's own writes (none: reads answer at once)."""

    queries: CassandraReadModelQueries
    fence: ReadFence | None = None


class QueryServicer:
    """The base of the query servicers."""

    def __init__(self, deps: QueryDeps) -> None:
        self._deps = deps
        self._queries = deps.queries


@dataclass(frozen=True)
class Readable:
    """A conversation the caller may read, with their row (if any), its head and their window."""

    conversation: Conversation
    user_id: str
    row: UserConversationRow | None
    head: HeadRow | None
    window: SeqWindow


def conversation_of(ref: common_pb2.ConversationRef, user_id: str) -> Conversation:
    if not ref.id:
        raise Rejected(Reason.BAD_PARAMETER, "conversation is required")
    try:
        return Conversation.for_request(conversation_type_from_proto(ref.type), ref.id, user_id)
    except Rejected as rejected:
        if rejected.reason is Reason.SEND_TO_SELF:
            # Nothing to read there: not a malformed request, a conversation that never exists.
            raise Rejected(
                Reason.CONVERSATION_NOT_FOUND, "there is no peer conversation with yourself"
            ) from None
        raise


async def readable(deps: QueryDeps, ref: common_pb2.ConversationRef) -> Readable:
    """The caller's view of the conversation, or NOT_A_MEMBER / ROOM_NOT_FOUND."""
    user_id = current_caller().user_id
    conversation = conversation_of(ref, user_id)
    if deps.fence is not None:
        await deps.fence.conversation(conversation.key)
    queries = deps.queries
    row = await queries.user_row(user_id, conversation.key)
    head = await queries.head(conversation.key)
    window = history_window(conversation, row, head)
    return Readable(conversation, user_id, row, head, window)


def ref_for(key: str, user_id: str, type_: int) -> common_pb2.ConversationRef:
    """The reference a user would name this conversation by (peers: the other user)."""
    conversation = Conversation(conversation_type_from_proto(type_), key)
    is_peer = conversation.type is ConversationType.PEER
    target = conversation.peer_of(user_id) if is_peer else conversation.target_id
    return common_pb2.ConversationRef(type=type_, id=target)  # type: ignore[arg-type]
