"""The pre-send hook on the send path: an ingress over the in-memory log calling a real grpc.aio
SendHook server on 127.0.0.1:0 (tests/send_hooks.py) through the gRPC adapter."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest

from parley.adapters.memory import InMemoryEventLog
from parley.config import Settings
from parley.domain.events import MessageSent, TextContent
from parley.domain.send_hook import Reject, Replace
from parley.gen.parley.v1 import ingress_pb2
from tests.send_hooks import ScriptedSendHook, down_target, hook_calls, serving_hook
from tests.unit.services.ingress_harness import Sender, reason_code, serving, text_to, until

TIMEOUT_MS = 150
CARD = "my card is 4111"  # what the redacting hook replaces
REDACTED = TextContent("[redacted]")


class Ingress(Sender):
    """Alice's client of an ingress over an in-memory log, sending to bob."""

    async def rejected(self, cmid: str, text: str = "hi") -> grpc.aio.AioRpcError:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await self.send(cmid, text)
        return caught.value


@contextlib.asynccontextmanager
async def ingress(target: str, **overrides: Any) -> AsyncIterator[Ingress]:
    """An ingress whose settings name the hook at `target`, with alice's token."""
    settings = Settings(send_hook_target=target, send_hook_timeout_ms=TIMEOUT_MS, **overrides)
    async with serving(InMemoryEventLog(), settings=settings) as served:
        yield Ingress(served, await served.token("alice"))


@pytest.fixture
async def hook() -> AsyncIterator[tuple[ScriptedSendHook, str]]:
    scripted = ScriptedSendHook()
    async with serving_hook(scripted) as target:
        yield scripted, target


@pytest.fixture
def redacting(hook: tuple[ScriptedSendHook, str]) -> tuple[ScriptedSendHook, str]:
    """The hook, replacing the content of every send it is asked about with REDACTED."""
    hook[0].verdict = lambda event: Replace(REDACTED)
    return hook


async def test_send_hook__allowed_send_is_stored_and_the_hook_saw_the_event(
    hook: tuple[ScriptedSendHook, str],
) -> None:
    scripted, target = hook
    async with ingress(target) as parley:
        reply = await parley.send("c1", "hello")
    assert [s.content for s in parley.sends()] == [TextContent("hello")]
    (asked,) = scripted.asked
    assert (asked.event_id, asked.actor, asked.conversation_key) == (
        reply.message_id,
        "alice",
        "p:alice:bob",
    )
    assert isinstance(asked.payload, MessageSent) and asked.payload.content == TextContent("hello")


async def test_send_hook__rejected_send_gets_its_code_and_reason_and_writes_nothing(
    hook: tuple[ScriptedSendHook, str],
) -> None:
    scripted, target = hook
    scripted.verdict = lambda event: Reject("no selling here")
    before = hook_calls("reject")
    async with ingress(target) as parley:
        error = await parley.rejected("c1", "buy my stuff")
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    assert reason_code(error) == "3003" and error.details() == "no selling here"
    assert parley.sends() == []
    assert hook_calls("reject") == before + 1


async def test_send_hook__replaced_send_is_stored_replaced_and_its_retry_not_asked_again(
    redacting: tuple[ScriptedSendHook, str],
) -> None:
    scripted, target = redacting
    async with ingress(target) as parley:
        first = await parley.send("c1", CARD)
        retry = await parley.send("c1", CARD)  # from the ledger
        conflict = await parley.rejected("c1", "[redacted]")
    (stored,) = parley.sends()
    assert stored.content == REDACTED and stored.original_fingerprint
    assert (retry.message_id, retry.order_key, retry.duplicate) == (
        first.message_id,
        first.order_key,
        True,
    )
    assert scripted.asked_about("c1") == 1
    assert reason_code(conflict) == "2006"  # the id was used for another message


async def test_send_hook__retries_while_the_hook_thinks_join_the_one_call(
    redacting: tuple[ScriptedSendHook, str],
) -> None:
    scripted, target = redacting
    scripted.delay_s = lambda event: 0.05
    async with ingress(target) as parley:
        replies = await asyncio.gather(*(parley.send("c1", CARD) for _ in range(4)))
    assert scripted.asked_about("c1") == 1
    assert len({(r.message_id, r.order_key) for r in replies}) == 1
    assert sorted(r.duplicate for r in replies) == [False, True, True, True]
    assert [s.content for s in parley.sends()] == [REDACTED]


async def test_send_hook__retry_while_a_replaced_send_is_unsettled_joins_it(
    redacting: tuple[ScriptedSendHook, str],
) -> None:
    scripted, target = redacting
    async with ingress(target) as parley:
        # The replaced send is held by a log that hangs, then goes down: UNAVAILABLE.
        parley.log.stall()
        first = asyncio.create_task(parley.rejected("c1", CARD))
        await until(lambda: parley.log.waiting == 1)
        parley.log.cut_off()
        assert reason_code(await first) == "9001"
        # A retry meanwhile meets the held append (outcome unknown), without asking the hook.
        assert reason_code(await parley.rejected("c1", CARD)) == "9001"
        # The log comes back and writes the held append; the next retry is answered from it.
        parley.log.reconnect()
        retry = await parley.send("c1", CARD)
    assert retry.duplicate and scripted.asked_about("c1") == 1
    assert [s.content for s in parley.sends()] == [REDACTED]


@contextlib.asynccontextmanager
async def hanging(hook: tuple[ScriptedSendHook, str], policy: str) -> AsyncIterator[Ingress]:
    """An ingress under `policy` whose hook hangs past the timeout; on leaving, exactly one
    timeout has been counted."""
    scripted, target = hook
    scripted.hang = True
    before = hook_calls("timeout")
    async with ingress(target, send_hook_policy=policy) as parley:
        yield parley
    assert hook_calls("timeout") == before + 1


async def test_send_hook__hanging_hook_fail_open_stores_the_send_after_the_timeout(
    hook: tuple[ScriptedSendHook, str],
) -> None:
    async with hanging(hook, "fail-open") as parley:
        started = time.monotonic()
        await parley.send("c1", "hello")
        elapsed = time.monotonic() - started
    assert [s.content for s in parley.sends()] == [TextContent("hello")]
    assert TIMEOUT_MS / 1000 <= elapsed < TIMEOUT_MS / 1000 + 1.0


async def test_send_hook__hanging_hook_fail_closed_rejects_and_a_retry_asks_again(
    hook: tuple[ScriptedSendHook, str],
) -> None:
    scripted, _ = hook
    async with hanging(hook, "fail-closed") as parley:
        error = await parley.rejected("c1")
        assert error.code() == grpc.StatusCode.UNAVAILABLE and reason_code(error) == "9005"
        assert parley.sends() == []
        # Nothing was written, so the client's retry is a new question to the hook.
        scripted.hang = False
        await parley.send("c1")
    assert scripted.asked_about("c1") == 2 and len(parley.sends()) == 1


@pytest.mark.parametrize("policy", ["fail-open", "fail-closed"])
async def test_send_hook__hook_that_is_down_follows_the_policy(policy: str) -> None:
    before = hook_calls("error")
    async with ingress(down_target(), send_hook_policy=policy) as parley:
        if policy == "fail-open":
            await parley.send("c1")
            assert len(parley.sends()) == 1
        else:
            error = await parley.rejected("c1")
            assert reason_code(error) == "9005" and parley.sends() == []
    assert hook_calls("error") == before + 1


async def test_send_hook__unusable_answer_is_a_failure(hook: tuple[ScriptedSendHook, str]) -> None:
    scripted, target = hook
    scripted.unusable = True
    async with ingress(target, send_hook_policy="fail-closed") as parley:
        error = await parley.rejected("c1")
    assert reason_code(error) == "9005" and parley.sends() == []


async def test_send_hook__sends_of_types_it_does_not_see_are_not_asked(
    hook: tuple[ScriptedSendHook, str],
) -> None:
    scripted, target = hook
    scripted.verdict = lambda event: Reject("no")
    async with ingress(target, send_hook_conversation_types="group,room") as parley:
        await parley.send("c1")
    assert scripted.asked == [] and len(parley.sends()) == 1


async def test_send_hook__a_senders_sends_keep_their_order_across_a_slow_hook(
    hook: tuple[ScriptedSendHook, str],
) -> None:
    scripted, target = hook
    # The first send's hook call is slow, the others' fast: appends still go in request order.
    scripted.verdict = lambda event: Replace(TextContent(f"ok {event.client_message_id}"))
    async with ingress(target) as parley:

        async def requests() -> AsyncIterator[ingress_pb2.SendMessageRequest]:
            for i in range(5):
                yield text_to("bob", f"c{i}", f"m{i}")

        scripted.delay_s = lambda event: 0.1 if event.client_message_id == "c0" else 0.0
        call = parley.messaging.SendMessageStream(requests(), metadata=parley.auth)
        results = [result async for result in call]
    assert all(r.WhichOneof("outcome") == "accepted" for r in results)
    assert [s.content for s in parley.sends()] == [TextContent(f"ok c{i}") for i in range(5)]
