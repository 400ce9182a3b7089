"""ConversationService: the caller's conversation list, one conversation, unread and mentions."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from parley.domain.conversation_list import (
    ConversationView,
    MentionView,
    is_listed,
    is_member,
    page,
    view_of,
)
from parley.domain.conversations import ConversationType
from parley.domain.errors import Reason, Rejected
from parley.domain.read_access import page_size
from parley.domain.read_models import HeadRow, MentionAllRow, UserConversationRow
from parley.gen.parley.v1 import query_pb2 as pb
from parley.gen.parley.v1 import query_pb2_grpc
from services.query.access import QueryServicer, readable, ref_for
from services.shell.auth import current_caller


def mention_to_proto(m: MentionView) -> pb.Mention:
    kind = pb.MENTION_TYPE_ALL if m.everyone else pb.MENTION_TYPE_USER
    return pb.Mention(seq=m.seq, message_id=m.message_id, sender_id=m.sender_id, type=kind)


def summary_to_proto(view: ConversationView) -> pb.ConversationSummary:
    row, head = view.row, view.head
    return pb.ConversationSummary(
        conversation=ref_for(row.conversation_key, row.user_id, int(row.conversation_type)),
        conversation_key=row.conversation_key,
        last_seq=head.last_seq,
        read_seq=row.read_seq,
        unread_count=view.unread,
        mentions=[mention_to_proto(m) for m in view.mentions],
        last_message_id=head.last_message_id,
        last_sender_id=head.last_sender_id,
        last_message_type=head.last_message_type,  # type: ignore[arg-type]
        last_preview=head.last_preview,
        last_recalled=head.last_recalled,
        last_activity_ms=head.last_activity_ms,
        is_member=is_member(row),
        dismissed=head.dismissed,
        delivered_seq=row.delivered_seq,
        name=head.title,
    )


class ConversationServicer(QueryServicer, query_pb2_grpc.ConversationServiceServicer):
    async def _views(self, user_id: str, with_mentions: bool) -> list[ConversationView]:
        if self._deps.fence is not None:
            await self._deps.fence.user(user_id)
        q = self._queries
        rows = await q.user_rows(user_id)
        heads = await q.heads(row.conversation_key for row in rows)
        listed = [
            (row, heads[row.conversation_key])
            for row in rows
            if row.conversation_key in heads and is_listed(row, heads[row.conversation_key])
        ]
        if not with_mentions:
            return [view_of(row, head) for row, head in listed]
        mentions = await q.mentions(user_id)
        everyone = await self._mention_all(listed)
        return [
            view_of(
                row,
                head,
                [m for m in mentions if m.conversation_key == row.conversation_key],
                everyone.get(row.conversation_key, ()),
            )
            for row, head in listed
        ]

    async def _mention_all(
        self, listed: Sequence[tuple[UserConversationRow, HeadRow]]
    ) -> dict[str, list[MentionAllRow]]:
        groups = [
            row for row, head in listed
            if row.conversation_type is ConversationType.GROUP and head.last_seq > row.read_seq
        ]  # fmt: skip
        found = await asyncio.gather(
            *(self._queries.mention_all(row.conversation_key, row.read_seq) for row in groups)
        )
        return {row.conversation_key: rows for row, rows in zip(groups, found, strict=True)}

    async def ListConversations(
        self, request: pb.ListConversationsRequest, context: Any
    ) -> pb.ListConversationsResponse:
        size = page_size(request.page_size)
        views = await self._views(current_caller().user_id, with_mentions=True)
        chosen, cursor = page(views, request.cursor, size)
        return pb.ListConversationsResponse(
            conversations=[summary_to_proto(v) for v in chosen], next_cursor=cursor
        )

    async def GetConversation(
        self, request: pb.GetConversationRequest, context: Any
    ) -> pb.ConversationSummary:
        view = await readable(self._deps, request.conversation)
        if view.row is None or view.head is None:
            raise Rejected(Reason.CONVERSATION_NOT_FOUND, "the caller has no such conversation")
        return summary_to_proto(await self._view(view.row, view.head))

    async def _view(self, row: UserConversationRow, head: HeadRow) -> ConversationView:
        q, key = self._queries, row.conversation_key
        mentions = await q.mentions(row.user_id, key)
        everyone = await q.mention_all(key, row.read_seq)
        return view_of(row, head, mentions, everyone)

    async def GetUnreadTotal(
        self, request: pb.GetUnreadTotalRequest, context: Any
    ) -> pb.GetUnreadTotalResponse:
        views = await self._views(current_caller().user_id, with_mentions=False)
        return pb.GetUnreadTotalResponse(
            unread_total=sum(v.unread for v in views),
            conversations_with_unread=sum(1 for v in views if v.unread),
        )

    async def ListMentions(
        self, request: pb.ListMentionsRequest, context: Any
    ) -> pb.ListMentionsResponse:
        view = await readable(self._deps, request.conversation)
        if view.row is None or view.head is None:
            return pb.ListMentionsResponse()
        found = await self._view(view.row, view.head)
        return pb.ListMentionsResponse(mentions=[mention_to_proto(m) for m in found.mentions])
