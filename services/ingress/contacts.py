"""ContactService: the per-user blacklist, on the user's own stream."""

from __future__ import annotations

from parley.domain.commands import Stamp
from parley.domain.contacts import decide_block, decide_unblock
from parley.domain.events import Event
from parley.gen.parley.v1 import ingress_pb2 as pb
from parley.gen.parley.v1 import ingress_pb2_grpc
from services.ingress.decided import DecidedRpc, IngressServicer, order_key_answer

_answer = order_key_answer(pb.BlockUserResponse)


class ContactServicer(IngressServicer, ingress_pb2_grpc.ContactServiceServicer):
    def _block(self, request: pb.BlockUserRequest, actor: str, stamp: Stamp) -> Event:
        return decide_block(actor, request.user_id, self._ingress.model, stamp)

    def _unblock(self, request: pb.BlockUserRequest, actor: str, stamp: Stamp) -> Event:
        return decide_unblock(actor, request.user_id, self._ingress.model, stamp)

    # Settled: the caller's next request through this process already meets the change.
    BlockUser = DecidedRpc(_block, _answer, settle=True)
    UnblockUser = DecidedRpc(_unblock, _answer, settle=True)
