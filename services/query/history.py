"""HistoryService: pages of a conversation's stored messages, and single messages."""

from __future__ import annotations

from typing import Any

from parley.adapters.wire_rows import history_to_proto
from parley.domain.errors import Reason, Rejected
from parley.domain.read_access import page_size
from parley.gen.parley.v1 import query_pb2 as pb
from parley.gen.parley.v1 import query_pb2_grpc
from services.query.access import QueryServicer, readable


class HistoryServicer(QueryServicer, query_pb2_grpc.HistoryServiceServicer):
    async def GetHistory(
        self, request: pb.GetHistoryRequest, context: Any
    ) -> pb.GetHistoryResponse:
        size = page_size(request.page_size)
        view = await readable(self._deps, request.conversation)
        if request.direction not in pb.HistoryDirection.values():  # never a silent oldest-first
            raise Rejected(Reason.BAD_PARAMETER, f"direction: unknown value {request.direction}")
        newest = request.direction == pb.HISTORY_DIRECTION_NEWEST_FIRST
        window = view.window
        lowest, highest = (
            window.clamp_newest(request.cursor_seq)
            if newest
            else window.clamp_oldest(request.cursor_seq)
        )
        rows = await self._queries.history(view.conversation.key, lowest, highest, size + 1, newest)
        more = len(rows) > size
        rows = rows[:size]
        return pb.GetHistoryResponse(
            messages=[history_to_proto(row) for row in rows],
            next_cursor_seq=rows[-1].seq if more else 0,
        )

    async def GetMessage(self, request: pb.GetMessageRequest, context: Any) -> pb.HistoryMessage:
        which = request.WhichOneof("which")
        if which is None or (which == "message_id" and not request.message_id):
            raise Rejected(Reason.BAD_PARAMETER, "name the message by message_id or seq")
        view = await readable(self._deps, request.conversation)
        key = view.conversation.key
        seq: int | None = request.seq
        if which == "message_id":
            seq = await self._queries.seq_of(key, request.message_id)
        row = await self._queries.message(key, seq) if seq else None
        if row is None or not view.window.first <= row.seq <= view.window.last:
            raise Rejected(Reason.MESSAGE_NOT_FOUND, "no such message in this conversation")
        return history_to_proto(row)
