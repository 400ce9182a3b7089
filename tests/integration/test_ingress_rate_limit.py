"""The rate limit's retry hint: RetryInfo beside ErrorInfo, the stream's Rejection, the SDK."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import grpc
import pytest
from google.rpc import error_details_pb2, status_pb2
from prometheus_client import REGISTRY

from parley.domain.errors import Reason
from parley.domain.events import MessageSent, TextContent
from parley.gen.parley.v1 import common_pb2, ingress_pb2
from parley.sdk import Conversation, ParleyClient, ParleyError
from parley.sdk.rpc import call
from tests.integration.ingress_harness import PEER, IngressFactory

pytestmark = pytest.mark.integration

# Two sends a second: the bucket holds two, and refills one send every 500 ms.
RATE = 2
REFILL_MS = 1000 // RATE


def details_of(
    error: grpc.aio.AioRpcError,
) -> tuple[error_details_pb2.ErrorInfo, error_details_pb2.RetryInfo | None]:
    """The ErrorInfo and the RetryInfo (None when absent) of the status details."""
    trailers = dict(error.trailing_metadata() or ())
    status = status_pb2.Status.FromString(trailers["grpc-status-details-bin"])
    info, retry = error_details_pb2.ErrorInfo(), error_details_pb2.RetryInfo()
    found_retry = None
    for detail in status.details:
        if detail.Is(info.DESCRIPTOR):
            detail.Unpack(info)
        elif detail.Is(retry.DESCRIPTOR):
            detail.Unpack(retry)
            found_retry = retry
    return info, found_retry


def send_request(cmid: str) -> ingress_pb2.SendMessageRequest:
    return ingress_pb2.SendMessageRequest(
        conversation=common_pb2.ConversationRef(type=PEER, id="bob"),
        client_message_id=cmid,
        body=common_pb2.MessageBody(text=common_pb2.TextContent(text=cmid)),
    )


async def test_rate_limit__rejection_carries_retry_info_until_the_bucket_allows(
    ingress_factory: IngressFactory,
) -> None:
    ingress = await ingress_factory(rate_per_second=RATE)
    alice = await ingress.client("alice")
    # Two sends empty the bucket; the third is rejected with the time until it refills.
    for _ in range(RATE):
        await alice.send(PEER, "bob")
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await alice.send(PEER, "bob", cmid="third")
    assert raised.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    info, retry = details_of(raised.value)
    assert (info.reason, info.metadata["code"]) == ("RATE_LIMITED", str(int(Reason.RATE_LIMITED)))
    assert retry is not None, "no google.rpc.RetryInfo beside the ErrorInfo"
    delay_ms = retry.retry_delay.ToMilliseconds()
    assert 0 < delay_ms <= REFILL_MS
    # Waiting exactly the hint (the behaviour under test, hence a sleep) is enough.
    await asyncio.sleep(delay_ms / 1000)
    reply = await alice.send(PEER, "bob", cmid="third")
    assert reply.message_id and not reply.duplicate


async def test_rate_limit__a_stream_rejection_carries_the_retry_delay(
    ingress_factory: IngressFactory,
) -> None:
    ingress = await ingress_factory(rate_per_second=RATE)
    alice = await ingress.client("alice")

    async def requests() -> AsyncIterator[ingress_pb2.SendMessageRequest]:
        for n in range(RATE + 1):
            yield send_request(f"s-{n}")

    results = [r async for r in alice.messaging.SendMessageStream(requests(), metadata=alice.auth)]
    accepted = [r for r in results if r.HasField("accepted")]
    rejected = [r.rejected for r in results if r.HasField("rejected")]
    assert (len(accepted), len(rejected)) == (RATE, 1)
    (rejection,) = rejected
    assert rejection.reason == common_pb2.RATE_LIMITED
    assert rejection.grpc_status_code == grpc.StatusCode.RESOURCE_EXHAUSTED.value[0]
    assert rejection.HasField("retry_delay")
    assert 0 < rejection.retry_delay.ToMilliseconds() <= REFILL_MS


def rate_limited_so_far() -> float:
    return (
        REGISTRY.get_sample_value("parley_ingress_rejections_total", {"reason": "RATE_LIMITED"})
        or 0.0
    )


async def test_rate_limit__the_sdk_exposes_the_delay_and_its_send_waits_it(
    ingress_factory: IngressFactory,
) -> None:
    # One send a second: a hint of up to 1 s, far beyond the SDK's first backoff (0.2 s).
    ingress = await ingress_factory(rate_per_second=1)
    token = (await ingress.client("alice")).token
    target = f"127.0.0.1:{ingress.running.port}"
    async with await ParleyClient.connect(target, token) as alice:
        await alice.send(Conversation.peer("bob"), "fill")
        # ParleyError carries the hint of a rejected call.
        with pytest.raises(ParleyError) as raised:
            await call(alice.messaging.SendMessage, send_request("raw"), alice.metadata)
        assert raised.value.reason == int(Reason.RATE_LIMITED)
        assert raised.value.retry_delay_s is not None
        assert 0 < raised.value.retry_delay_s <= 1.0
        # The SDK's send is rejected once, waits the hint, and its one retry is accepted.
        before = rate_limited_so_far()
        sent = await alice.send(Conversation.peer("bob"), "patient")
    assert sent.message_id and not sent.duplicate
    assert rate_limited_so_far() - before == 1
    stored = [e.payload for _, _, _, e in ingress.events() if e.event_id == sent.message_id]
    assert len(stored) == 1 and isinstance(stored[0], MessageSent)
    assert stored[0].content == TextContent("patient")
