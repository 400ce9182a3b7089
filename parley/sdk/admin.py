"""AdminClient: the server-side API (tokens, sending as a user, broadcasts), by admin secret."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from parley.gen.parley.v1 import ingress_pb2, ingress_pb2_grpc
from parley.sdk.rpc import Closing, call, channel_for
from parley.sdk.types import Body, body_to_proto


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_at_ms: int


class AdminClient(Closing):
    def __init__(self, target: str, admin_secret: str) -> None:
        self._channel = channel_for(target)
        self._stub = ingress_pb2_grpc.AdminServiceStub(self._channel)
        self._metadata = (("authorization", f"Bearer {admin_secret}"),)

    async def close(self) -> None:
        await self._channel.close()

    async def issue_token(self, user_id: str, ttl_s: int = 0) -> IssuedToken:
        """A user token; ttl_s 0 takes the server's default lifetime."""
        reply = await call(
            self._stub.IssueToken,
            ingress_pb2.IssueTokenRequest(user_id=user_id, ttl_s=ttl_s),
            self._metadata,
        )
        return IssuedToken(reply.token, reply.expires_at_ms)

    async def broadcast(self, body: Body | str, client_message_id: str = "") -> str:
        """Pushes a message to every online user (not stored); returns its message id."""
        reply = await call(
            self._stub.Broadcast,
            ingress_pb2.BroadcastRequest(
                client_message_id=client_message_id or uuid.uuid4().hex,
                body=body_to_proto(body),
            ),
            self._metadata,
        )
        return str(reply.message_id)

    async def create_group_as(
        self, owner_id: str, name: str, members: list[str], group_id: str = ""
    ) -> str:
        reply = await call(
            self._stub.CreateGroupAs,
            ingress_pb2.CreateGroupAsRequest(
                owner_id=owner_id,
                group=ingress_pb2.CreateGroupRequest(
                    group_id=group_id, name=name, member_ids=members
                ),
            ),
            self._metadata,
        )
        return str(reply.group_id)
