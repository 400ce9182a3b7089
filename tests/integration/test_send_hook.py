"""The pre-send hook on the real engines: real ingress servers over real Kafka (and Cassandra for
their archives) calling a real gRPC SendHook server: one that rejects, one that rewrites, one
that hangs (fail-open and fail-closed) and one that is down."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable
from typing import Any

import grpc
import pytest

from parley.domain.errors import Reason
from parley.domain.events import Event, MessageSent, TextContent
from parley.domain.send_hook import Allow, Reject, Replace, Verdict
from tests.integration.ingress_harness import PEER, Ingress, IngressFactory
from tests.integration.test_ingress_rejections import reason_of
from tests.send_hooks import ScriptedSendHook, down_target, hook_calls, serving_hook

pytestmark = pytest.mark.integration

TIMEOUT_MS = 200


@pytest.fixture
async def hook() -> AsyncIterator[tuple[ScriptedSendHook, str]]:
    scripted = ScriptedSendHook()
    async with serving_hook(scripted) as target:
        yield scripted, target


def stored(ingress: Ingress) -> list[MessageSent]:
    """The sends on the conversation topic (the truth every read model folds)."""
    return [e.payload for *_, e in ingress.events() if isinstance(e.payload, MessageSent)]


async def refused(call: Awaitable[Any]) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    return caught.value


def text_of(event: Event) -> str:
    payload = event.payload
    assert isinstance(payload, MessageSent) and isinstance(payload.content, TextContent)
    return payload.content.text


async def test_send_hook__rejecting_hook_refuses_with_its_reason_and_nothing_is_written(
    ingress_factory: IngressFactory, hook: tuple[ScriptedSendHook, str]
) -> None:
    scripted, target = hook

    def no_shop_links(event: Event) -> Verdict:
        if "shop.example" in text_of(event):
            return Reject("links to other shops are not allowed")
        return Allow()

    scripted.verdict = no_shop_links
    ingress = await ingress_factory(send_hook_target=target, send_hook_timeout_ms=TIMEOUT_MS)
    alice = await ingress.client("alice")
    before = hook_calls("reject")
    await alice.send(PEER, "bob", "hello", cmid="fine")
    error = await refused(alice.send(PEER, "bob", "see shop.example", cmid="spam"))
    assert reason_of(error) is Reason.SEND_HOOK_REJECTED
    assert error.details() == "links to other shops are not allowed"
    assert [s.content for s in stored(ingress)] == [TextContent("hello")]
    assert [e.client_message_id for e in scripted.asked] == ["fine", "spam"]
    assert hook_calls("reject") == before + 1


async def test_send_hook__rewriting_hook_stores_the_rewrite_and_retries_are_not_asked_again(
    ingress_factory: IngressFactory, hook: tuple[ScriptedSendHook, str]
) -> None:
    scripted, target = hook
    scripted.verdict = lambda event: Replace(TextContent(text_of(event).replace("4111", "****")))
    scripted.delay_s = lambda event: 0.02
    settings = {"send_hook_target": target, "send_hook_timeout_ms": TIMEOUT_MS}
    first_ingress = await ingress_factory(**settings)
    alice = await first_ingress.client("alice")
    # A send and two retries racing it: one question to the hook, one message.
    replies = await asyncio.gather(
        *(alice.send(PEER, "bob", "card 4111", cmid="card") for _ in range(3))
    )
    assert len({(r.message_id, r.order_key) for r in replies}) == 1
    assert sorted(r.duplicate for r in replies) == [False, True, True]
    (message,) = stored(first_ingress)
    assert message.content == TextContent("card ****") and message.original_fingerprint
    # A retry through another ingress process, which knows the send only from the log.
    second_ingress = await ingress_factory(topics=first_ingress.topics, **settings)
    retry = await (await second_ingress.client("alice")).send(PEER, "bob", "card 4111", cmid="card")
    assert (retry.message_id, retry.order_key, retry.duplicate) == (
        replies[0].message_id,
        replies[0].order_key,
        True,
    )
    assert scripted.asked_about("card") == 1
    assert len(stored(first_ingress)) == 1


async def send_under(policy: str, ingress: Ingress, alice: Any) -> None:
    """Alice sends while the hook fails: fail-open stores the send as it was, fail-closed
    refuses it with SEND_HOOK_UNAVAILABLE and writes nothing."""
    if policy == "fail-open":
        await alice.send(PEER, "bob", "hello", cmid="c1")
        assert [s.content for s in stored(ingress)] == [TextContent("hello")]
    else:
        error = await refused(alice.send(PEER, "bob", "hello", cmid="c1"))
        assert reason_of(error) is Reason.SEND_HOOK_UNAVAILABLE
        assert stored(ingress) == []


@pytest.mark.parametrize("policy", ["fail-open", "fail-closed"])
async def test_send_hook__hanging_hook_times_out_and_follows_the_policy(
    ingress_factory: IngressFactory, hook: tuple[ScriptedSendHook, str], policy: str
) -> None:
    scripted, target = hook
    scripted.hang = True
    ingress = await ingress_factory(
        send_hook_target=target, send_hook_timeout_ms=TIMEOUT_MS, send_hook_policy=policy
    )
    alice = await ingress.client("alice")
    before = hook_calls("timeout")
    started = time.monotonic()
    await send_under(policy, ingress, alice)
    elapsed = time.monotonic() - started
    assert TIMEOUT_MS / 1000 <= elapsed < TIMEOUT_MS / 1000 + 1.0
    assert hook_calls("timeout") == before + 1


@pytest.mark.parametrize("policy", ["fail-open", "fail-closed"])
async def test_send_hook__hook_that_is_down_follows_the_policy(
    ingress_factory: IngressFactory, policy: str
) -> None:
    ingress = await ingress_factory(
        send_hook_target=down_target(), send_hook_timeout_ms=TIMEOUT_MS, send_hook_policy=policy
    )
    alice = await ingress.client("alice")
    before = hook_calls("error")
    await send_under(policy, ingress, alice)
    assert hook_calls("error") == before + 1
