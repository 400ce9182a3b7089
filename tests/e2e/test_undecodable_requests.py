"""Bad input is never UNKNOWN or INTERNAL: every RPC of every server of `parley run` answers a
request it cannot decode with INVALID_ARGUMENT BAD_PARAMETER. The RPCs come from reflection, so
a new one is covered without touching this test."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import grpc
import pytest
from google.protobuf import descriptor_pool
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)

from faults.security_calls import answer_of, metadata_of
from parley.gen.parley.v1 import common_pb2, ingress_pb2, ingress_pb2_grpc
from tests.e2e.stack import Stack

pytestmark = pytest.mark.integration

# Field 1, length-delimited, announces 5 bytes but 2 follow: no message type decodes it.
UNDECODABLE = b"\x0a\x05ab"
BAD_PARAMETER = (grpc.StatusCode.INVALID_ARGUMENT, "BAD_PARAMETER", 2001)
CALL_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Rpc:
    target: str
    path: str
    client_streaming: bool = False
    server_streaming: bool = False


def served_rpcs(target: str) -> list[Rpc]:
    """Every method of every service the server at `target` lists through reflection."""
    with grpc.insecure_channel(target) as channel:
        database = ProtoReflectionDescriptorDatabase(channel)
        pool = descriptor_pool.DescriptorPool(database)
        return [
            Rpc(target, f"/{name}/{method.name}", method.client_streaming, method.server_streaming)
            for name in database.get_services()
            for method in pool.FindServiceByName(name).methods
        ]


def call_raw(rpc: Rpc, bearer: str, payload: bytes = UNDECODABLE) -> grpc.RpcError:
    """Sends `payload` as it is (no serializer) and returns the error the call ended with."""
    metadata = metadata_of(bearer)

    def requests() -> Iterator[bytes]:
        yield payload

    with grpc.insecure_channel(rpc.target) as channel:
        kinds = {
            (False, False): channel.unary_unary,
            (True, False): channel.stream_unary,
            (False, True): channel.unary_stream,
            (True, True): channel.stream_stream,
        }
        method = kinds[(rpc.client_streaming, rpc.server_streaming)](rpc.path)
        try:
            answer = method(
                requests() if rpc.client_streaming else payload,
                metadata=metadata,
                timeout=CALL_TIMEOUT_S,
            )
            if rpc.server_streaming:
                for _ in answer:
                    pass
        except grpc.RpcError as error:
            return error
    raise AssertionError(f"{rpc.path} accepted {payload!r}")


def status_of(error: grpc.RpcError) -> tuple[grpc.StatusCode, str, int | None]:
    """The status code, the ErrorInfo reason of the status details and the reason trailer."""
    answer = answer_of(error)
    return answer.code, answer.reason_name, answer.reason


def user_token(stack: Stack, user_id: str) -> str:
    with grpc.insecure_channel(stack.ingress) as channel:
        reply = ingress_pb2_grpc.AdminServiceStub(channel).IssueToken(
            ingress_pb2.IssueTokenRequest(user_id=user_id),
            metadata=metadata_of(stack.admin_secret),
            timeout=CALL_TIMEOUT_S,
        )
    return str(reply.token)


def test_every_rpc__undecodable_request_is_bad_parameter(shared_stack: Stack) -> None:
    stack = shared_stack
    token = user_token(stack, "walker")
    rpcs = [rpc for t in (stack.ingress, stack.delivery, stack.media) for rpc in served_rpcs(t)]
    # The walk reaches each server's own API, not only health and reflection.
    paths = {rpc.path for rpc in rpcs}
    for expected in (
        "/parley.v1.MessagingService/SendMessageStream",
        "/parley.v1.AdminService/IssueToken",
        "/parley.v1.HistoryService/GetHistory",
        "/parley.v1.DeliveryService/Connect",
        "/parley.v1.MediaService/Upload",
        "/grpc.health.v1.Health/Check",
    ):
        assert expected in paths, sorted(paths)
    wrong = []
    for rpc in rpcs:
        bearer = stack.admin_secret if rpc.path.startswith("/parley.v1.AdminService/") else token
        code, reason, trailer = status_of(call_raw(rpc, bearer))
        if (code, reason, trailer) != BAD_PARAMETER:
            wrong.append(f"{rpc.target}{rpc.path}: {code.name} {reason} {trailer}")
    assert not wrong, "\n".join(wrong)


def test_send_message__invalid_utf8_in_a_string_field_is_bad_parameter(
    shared_stack: Stack,
) -> None:
    valid = ingress_pb2.SendMessageRequest(
        conversation=common_pb2.ConversationRef(type=common_pb2.CONVERSATION_TYPE_PEER, id="bob"),
        body=common_pb2.MessageBody(text=common_pb2.TextContent(text="hi")),
    ).SerializeToString()
    # client_message_id (field 2, a string) holding 0xff 0xfe, which is not UTF-8.
    rpc = Rpc(shared_stack.ingress, "/parley.v1.MessagingService/SendMessage")
    error = call_raw(rpc, user_token(shared_stack, "utf8"), valid + b"\x12\x02\xff\xfe")
    assert status_of(error) == BAD_PARAMETER


def test_issue_token__negative_ttl_is_bad_parameter(shared_stack: Stack) -> None:
    request = ingress_pb2.IssueTokenRequest(user_id="alice", ttl_s=-5).SerializeToString()
    rpc = Rpc(shared_stack.ingress, "/parley.v1.AdminService/IssueToken")
    assert status_of(call_raw(rpc, shared_stack.admin_secret, request)) == BAD_PARAMETER
