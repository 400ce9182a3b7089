"""Interop: grpcurl, a Go client that knows no .proto file, talks to Parley through reflection."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from infra.local import grpcurl
from tests.e2e.stack import Stack

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def grpcurl_bin() -> Path:
    return grpcurl.install()


def call(
    binary: Path, stack: Stack, method: str, body: dict[str, Any], bearer: str, ok: bool = True
) -> Any:
    argv = [
        str(binary), "-plaintext", "-H", f"authorization: Bearer {bearer}",
        "-d", json.dumps(body), stack.ingress, method,
    ]  # fmt: skip
    result = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    assert (result.returncode == 0) == ok, result.stderr
    return json.loads(result.stdout) if ok else result.stderr


def test_grpcurl__lists_services_sends_and_reads_history(
    grpcurl_bin: Path, shared_stack: Stack
) -> None:
    # Discovery needs no token: the services come from server reflection.
    listed = subprocess.run(
        [str(grpcurl_bin), "-plaintext", shared_stack.ingress, "list"],
        capture_output=True, text=True, timeout=30, check=True,
    ).stdout.split()  # fmt: skip
    for service in (
        "parley.v1.MessagingService",
        "parley.v1.HistoryService",
        "grpc.health.v1.Health",
    ):
        assert service in listed

    # A token from the admin API, then a send and its status.
    issued = call(grpcurl_bin, shared_stack, "parley.v1.AdminService/IssueToken",
                  {"user_id": "gopher"}, shared_stack.admin_secret)  # fmt: skip
    token = issued["token"]
    send = {
        "conversation": {"type": "CONVERSATION_TYPE_PEER", "id": "ferris"},
        "client_message_id": "go-1",
        "body": {"text": {"text": "hello from Go"}},
    }
    sent = call(grpcurl_bin, shared_stack, "parley.v1.MessagingService/SendMessage", send, token)
    assert sent["message_id"]
    status = call(grpcurl_bin, shared_stack, "parley.v1.MessagingService/GetSendStatus",
                  {"client_message_id": "go-1"}, token)  # fmt: skip
    assert (status["status"], status["message_id"]) == ("SEND_STATUS_ACCEPTED", sent["message_id"])

    # History, once the projector has applied the send.
    deadline = time.monotonic() + 60
    request = {"conversation": {"type": "CONVERSATION_TYPE_PEER", "id": "ferris"}}
    while True:
        history = call(grpcurl_bin, shared_stack, "parley.v1.HistoryService/GetHistory",
                       request, token)  # fmt: skip
        if history.get("messages"):
            break
        assert time.monotonic() < deadline, "history never showed the message"
        time.sleep(0.3)
    (message,) = history["messages"]
    assert (message["message_id"], message["body"]["text"]["text"]) == (
        sent["message_id"],
        "hello from Go",
    )

    # A rejection is a gRPC status a foreign client can read, with the reason trailer.
    to_self = {**send, "client_message_id": "go-2", "conversation": {"id": "gopher"}}
    error = call(grpcurl_bin, shared_stack, "parley.v1.MessagingService/SendMessage",
                 to_self, token, ok=False)  # fmt: skip
    assert "InvalidArgument" in error
