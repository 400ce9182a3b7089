"""The one place a domain rejection becomes a gRPC status carrying its stable reason code (and
retry hint): servicers raise Rejected, the shell's interceptors (auth, bad_input) abort with it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any, NoReturn

from google.protobuf import any_pb2
from google.protobuf.message import Message
from google.rpc import code_pb2, error_details_pb2, status_pb2

from parley import metrics
from parley.adapters.wire import grpc_status_of, retry_delay_to_proto
from parley.domain.errors import Rejected

REASON_TRAILER = "parley-reason-code"
ERROR_DOMAIN = "parley"


def _packed(detail: Message) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(detail)
    return packed


def trailing_metadata_of(rejected: Rejected) -> tuple[tuple[str, str | bytes], ...]:
    """google.rpc.Status with an ErrorInfo detail (and a RetryInfo one when waiting helps), plus
    a plain trailer for simple clients."""
    info = error_details_pb2.ErrorInfo(
        reason=rejected.reason.name,
        domain=ERROR_DOMAIN,
        metadata={"code": str(int(rejected.reason))},
    )
    details = [_packed(info)]
    retry_delay = retry_delay_to_proto(rejected)
    if retry_delay is not None:
        details.append(_packed(error_details_pb2.RetryInfo(retry_delay=retry_delay)))
    status = status_pb2.Status(
        code=getattr(code_pb2, rejected.info.status),
        message=rejected.message,
        details=details,
    )
    return (
        ("grpc-status-details-bin", status.SerializeToString()),
        (REASON_TRAILER, str(int(rejected.reason))),
    )


# How long a refused request-streaming call waits for the client's first request (see abort).
FIRST_REQUEST_WAIT_S = 1.0


async def abort(
    context: Any, rejected: Rejected, unread_requests: AsyncIterator[Any] | None = None
) -> NoReturn:
    """Ends the call with the rejection's status and reason code.

    `unread_requests`: the requests of a request-streaming call refused before any was read.
    The first one is awaited (up to FIRST_REQUEST_WAIT_S) before answering: grpcio's asyncio
    client reports INTERNAL instead of our status when its first write meets a call the server
    has already ended (grpc/grpc#36066), which a session with a bad token met 1 time in 6."""
    if unread_requests is not None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(anext(unread_requests), FIRST_REQUEST_WAIT_S)
    metrics.rejected(rejected.reason.name)
    await context.abort(
        grpc_status_of(rejected.reason),
        rejected.message,
        trailing_metadata=trailing_metadata_of(rejected),
    )
    raise AssertionError("context.abort returned")  # abort always raises
