"""Signed webhooks on the real engines: a real ingress appends, the dispatcher POSTs to a real
aiohttp receiver; a receiver down for 30 s; a dead-lettered event redelivered by an admin."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from parley.adapters.kafka_admin import delete_topics
from parley.config import Settings
from parley.gen.parley.v1 import common_pb2, ingress_pb2, webhooks_pb2
from parley.integration import StartAt
from services.webhooks.service import WebhookService
from tests.integration.ingress_harness import Ingress, IngressFactory
from tests.integration.webhook_receiver import WebhookReceiver

pytestmark = pytest.mark.integration
DOWN_S = 30


@pytest.fixture
async def ingress(ingress_factory: IngressFactory) -> Ingress:
    started: Ingress = await ingress_factory()
    return started


@pytest.fixture
def webhook_settings(
    monkeypatch: pytest.MonkeyPatch,
    unique_name: Callable[[str], str],
    kafka_bootstrap: str,
    ingress: Ingress,
) -> Any:
    """The ingress's settings with per-test webhook topics and group (and the given webhook_*
    overrides); the ingress's admin API reads the topics from the env."""
    names = {
        "webhook_topic_endpoints": unique_name("wh-endpoints"),
        "webhook_topic_dead_letters": unique_name("wh-dead"),
        "webhook_topic_redeliveries": unique_name("wh-redeliver"),
    }
    for name, value in names.items():
        monkeypatch.setenv(f"PARLEY_{name.upper()}", value)

    def settings(**overrides: Any) -> Settings:
        update = {**names, "webhook_group": unique_name("wh-group"), **overrides}
        with_webhooks: Settings = ingress.settings.model_copy(update=update)
        return with_webhooks

    yield settings
    delete_topics(kafka_bootstrap, list(names.values()))


@pytest.fixture
async def dispatcher(webhook_settings: Any) -> AsyncIterator[Callable[..., Any]]:
    """Starts a dispatcher on the per-test webhook settings with the given webhook_* overrides."""
    running: list[tuple[WebhookService, asyncio.Task[None]]] = []

    async def start(**overrides: Any) -> WebhookService:
        # Fresh topics: start at their beginning, so no event races the first assignment.
        settings = webhook_settings(**overrides)
        service = WebhookService(settings, StartAt.committed(fallback="earliest"))
        task = asyncio.create_task(service.run(handle_signals=False))
        running.append((service, task))
        await asyncio.wait_for(service.ready.wait(), 30)
        return service

    yield start
    for service, task in running:
        service.stop()
        await asyncio.wait_for(task, 60)


async def _register(ingress: Ingress, receiver: WebhookReceiver) -> webhooks_pb2.WebhookEndpoint:
    """Starts the receiver and registers it for message_sent; it checks signatures with the
    secret the registration answers."""
    await receiver.start()
    reply = await ingress.admin.RegisterWebhook(
        webhooks_pb2.RegisterWebhookRequest(url=receiver.url, event_types=["message_sent"]),
        metadata=ingress.admin_auth,
    )
    endpoint: webhooks_pb2.WebhookEndpoint = reply.endpoint
    assert len(endpoint.secret) == 64 and endpoint.endpoint_id
    receiver.secret = endpoint.secret
    return endpoint


async def _send(ingress: Ingress, sender: str, peer: str, text: str) -> str:
    request = ingress_pb2.SendMessageAsRequest(
        sender_id=sender,
        message=ingress_pb2.SendMessageRequest(
            conversation=common_pb2.ConversationRef(
                type=common_pb2.CONVERSATION_TYPE_PEER, id=peer
            ),
            client_message_id=f"{text}-{time.time_ns()}",
            body=common_pb2.MessageBody(text=common_pb2.TextContent(text=text)),
        ),
    )
    reply = await ingress.admin.SendMessageAs(request, metadata=ingress.admin_auth)
    message_id: str = reply.message_id
    return message_id


def _key(a: str, b: str) -> str:
    low, high = sorted((a, b))
    return f"p:{low}:{high}"


async def _dead_letters(
    ingress: Ingress, request: webhooks_pb2.ListWebhookDeadLettersRequest
) -> list[webhooks_pb2.WebhookDeadLetter]:
    """The first non-empty listing, polled for up to 30 s (dead letters are records on Kafka)."""
    for _ in range(150):
        reply = await ingress.admin.ListWebhookDeadLetters(request, metadata=ingress.admin_auth)
        if reply.dead_letters:
            return list(reply.dead_letters)
        await asyncio.sleep(0.2)
    raise TimeoutError("no dead letter listed within 30 s")


PAIRS = [("alice", "bob"), ("alice", "carol"), ("bob", "carol")]


async def test_webhooks__receiver_down_30_s_gets_every_event_in_order_signed(
    ingress: Ingress, dispatcher: Any
) -> None:
    receiver = WebhookReceiver()
    await _register(ingress, receiver)
    await dispatcher(
        webhook_backoff_first_s=0.2, webhook_backoff_max_s=3.0, webhook_max_attempts=100
    )
    sent: dict[str, list[str]] = {_key(*pair): [] for pair in PAIRS}
    # While the receiver is up.
    for i in range(12):
        sender, peer = PAIRS[i % 3]
        sent[_key(sender, peer)].append(await _send(ingress, sender, peer, f"up-{i}"))
    await receiver.wait_for(lambda: len({a.event_id for a in receiver.arrivals}) >= 12, 30)
    # Down for 30 s, with sends all along.
    await receiver.stop()
    down_at = time.monotonic()
    i = 0
    while time.monotonic() - down_at < DOWN_S:
        sender, peer = PAIRS[i % 3]
        sent[_key(sender, peer)].append(await _send(ingress, sender, peer, f"down-{i}"))
        i += 1
        await asyncio.sleep(0.5)
    await receiver.start()
    every_id = {event_id for ids in sent.values() for event_id in ids}
    await receiver.wait_for(lambda: {a.event_id for a in receiver.arrivals} >= every_id, 60)
    # Every request signed, its header naming the event it carries.
    assert all(a.signed and a.header_event_id == a.event_id for a in receiver.arrivals)
    assert {a.event_id for a in receiver.arrivals} == every_id
    for key, ids in sent.items():
        got = [a.event_id for a in receiver.arrivals if a.conversation_key == key]
        # In order per conversation: a duplicate only repeats the event just delivered.
        positions = [ids.index(event_id) for event_id in got]
        assert positions == sorted(positions), key
        assert list(dict.fromkeys(got)) == ids
    await receiver.stop()


async def test_webhooks__dead_letter_listed_and_redelivered_by_an_admin(
    ingress: Ingress, dispatcher: Any
) -> None:
    refusing = {"poison"}
    receiver = WebhookReceiver(refuse=lambda text: text in refusing)
    endpoint = await _register(ingress, receiver)
    await dispatcher(
        webhook_backoff_first_s=0.05, webhook_backoff_max_s=0.2, webhook_max_attempts=3
    )
    ids = [await _send(ingress, "alice", "bob", text) for text in ("before", "poison", "after")]
    # The poisoned event is given up after 3 attempts; the conversation goes on after it.
    await receiver.wait_for(lambda: any(a.text == "after" for a in receiver.arrivals), 30)
    assert [a.text for a in receiver.arrivals] == ["before", "after"]
    admin = ingress.admin_auth
    request = webhooks_pb2.ListWebhookDeadLettersRequest(endpoint_id=endpoint.endpoint_id)
    letters = await _dead_letters(ingress, request)
    (letter,) = letters
    assert (letter.event_id, letter.attempts, letter.last_error) == (ids[1], 3, "HTTP 500")
    assert letter.event_type == "message_sent" and not letter.redelivery_requested
    # The receiver is fixed; the admin redelivers the dead letter.
    refusing.clear()
    await ingress.admin.RedeliverWebhookDeadLetter(
        webhooks_pb2.RedeliverWebhookDeadLetterRequest(dead_letter_id=letter.dead_letter_id),
        metadata=admin,
    )
    await receiver.wait_for(lambda: any(a.text == "poison" for a in receiver.arrivals), 30)
    redelivered = receiver.arrivals[-1]
    assert (redelivered.event_id, redelivered.signed) == (ids[1], True)
    (listed,) = (await ingress.admin.ListWebhookDeadLetters(request, metadata=admin)).dead_letters
    assert listed.redelivery_requested
    # Endpoints are listed without their secret, and a removed one is gone.
    listing = await ingress.admin.ListWebhooks(webhooks_pb2.ListWebhooksRequest(), metadata=admin)
    assert [(e.endpoint_id, e.secret) for e in listing.endpoints] == [(endpoint.endpoint_id, "")]
    await ingress.admin.RemoveWebhook(
        webhooks_pb2.RemoveWebhookRequest(endpoint_id=endpoint.endpoint_id), metadata=admin
    )
    listing = await ingress.admin.ListWebhooks(webhooks_pb2.ListWebhooksRequest(), metadata=admin)
    assert not listing.endpoints
    await receiver.stop()
