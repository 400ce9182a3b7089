"""GrpcSendHook: the SendHook port over the operator's gRPC parley.v1.SendHook service."""

from __future__ import annotations

import grpc

from parley.adapters import wire
from parley.domain.errors import Rejected
from parley.domain.events import Event
from parley.domain.send_hook import Allow, Reject, Replace, Verdict
from parley.gen.parley.v1 import send_hook_pb2, send_hook_pb2_grpc
from parley.ports import SendHookFailed

# A hook that was down is called again soon after it is back: gRPC's default reconnect backoff
# grows to 120 s, during which every call would fail at once without trying.
CHANNEL_OPTIONS = (
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 1000),
    ("grpc.enable_retries", 0),  # the hook is asked once per send, never twice
)


class GrpcSendHook:
    """Calls CheckSend with the deadline `timeout_s`; a call is never retried.

    Make it inside the event loop that calls it (grpc.aio channels belong to one loop)."""

    def __init__(self, target: str, timeout_s: float, *, tls: bool = False) -> None:
        if tls:
            credentials = grpc.ssl_channel_credentials()
            self._channel = grpc.aio.secure_channel(target, credentials, options=CHANNEL_OPTIONS)
        else:
            self._channel = grpc.aio.insecure_channel(target, options=CHANNEL_OPTIONS)
        self._stub = send_hook_pb2_grpc.SendHookStub(self._channel)
        self._timeout_s = timeout_s

    async def check(self, event: Event) -> Verdict:
        request = send_hook_pb2.CheckSendRequest(event=wire.event_to_proto(event))
        try:
            answer: send_hook_pb2.CheckSendResponse = await self._stub.CheckSend(
                request, timeout=self._timeout_s
            )
        except grpc.aio.AioRpcError as error:
            timed_out = error.code() is grpc.StatusCode.DEADLINE_EXCEEDED
            raise SendHookFailed(
                f"CheckSend: {error.code().name}: {error.details()}", timed_out=timed_out
            ) from error
        return verdict_from_proto(answer)

    async def close(self) -> None:
        await self._channel.close()


def verdict_from_proto(answer: send_hook_pb2.CheckSendResponse) -> Verdict:
    """The verdict a CheckSendResponse states; SendHookFailed when it states none."""
    if answer.verdict == send_hook_pb2.SEND_VERDICT_ALLOW:
        return Allow()
    if answer.verdict == send_hook_pb2.SEND_VERDICT_REJECT:
        return Reject(answer.reason)
    if answer.verdict == send_hook_pb2.SEND_VERDICT_REPLACE:
        try:
            return Replace(wire.content_from_proto(answer.body))
        except Rejected as error:
            raise SendHookFailed(f"REPLACE: {error.message}", timed_out=False) from error
    raise SendHookFailed(f"no verdict in the answer ({answer.verdict})", timed_out=False)


def verdict_to_proto(verdict: Verdict) -> send_hook_pb2.CheckSendResponse:
    """The CheckSendResponse stating `verdict` (what a hook written in Python answers)."""
    if isinstance(verdict, Allow):
        return send_hook_pb2.CheckSendResponse(verdict=send_hook_pb2.SEND_VERDICT_ALLOW)
    if isinstance(verdict, Reject):
        return send_hook_pb2.CheckSendResponse(
            verdict=send_hook_pb2.SEND_VERDICT_REJECT, reason=verdict.reason
        )
    return send_hook_pb2.CheckSendResponse(
        verdict=send_hook_pb2.SEND_VERDICT_REPLACE, body=wire.content_to_proto(verdict.content)
    )
