"""ReceiptService: delivered/read state of peer messages, read count and readers of group ones."""

from __future__ import annotations

from typing import Any

from parley.domain.conversations import ConversationType
from parley.domain.errors import Reason, Rejected
from parley.gen.parley.v1 import query_pb2 as pb
from parley.gen.parley.v1 import query_pb2_grpc
from services.query.access import QueryServicer, readable


class ReceiptServicer(QueryServicer, query_pb2_grpc.ReceiptServiceServicer):
    async def GetReceipts(
        self, request: pb.GetReceiptsRequest, context: Any
    ) -> pb.GetReceiptsResponse:
        view = await readable(self._deps, request.conversation)
        key, q = view.conversation.key, self._queries
        seq = await q.seq_of(key, request.message_id)
        if seq is None:
            raise Rejected(Reason.MESSAGE_NOT_FOUND, "no such message in this conversation")
        answer = pb.GetReceiptsResponse(seq=seq, message_id=request.message_id)
        if view.conversation.type is ConversationType.PEER:
            other = await q.user_row(view.conversation.peer_of(view.user_id), key)
            if other is not None:
                answer.read = other.read_seq >= seq
                answer.delivered = answer.read or other.delivered_seq >= seq
                answer.read_count = int(answer.read)
            return answer
        readers = await q.readers(key, seq)
        answer.read_count = len(readers)
        answer.read = bool(readers)
        answer.readers.extend(
            pb.Reader(user_id=r.reader_id, read_at_ms=r.read_at_ms) for r in readers
        )
        return answer
