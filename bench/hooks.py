"""bench-hooks: webhook events/s the dispatcher POSTs to one endpoint (goal >= 1,000/s), and
what the pre-send hook adds to a send's acknowledgement (goals: <= 2 ms at p50, <= 10 ms at p99).

Webhooks: appends a backlog of text-message events over many conversations to fresh topics,
registers one endpoint (a real aiohttp receiver in its own process that checks every signature),
runs the dispatcher as `parley run` does (services.webhooks.service.WebhookService) and times the
deliveries from the first to the last.

Pre-send hook (bench/send_hook.py): two ingress processes on their own fresh topics, one
without a hook and one calling a local allow-everything SendHook server in its own process;
SendMessageStream sends at 200 msg/s (40 users at 5/s) to each in turn, in alternating windows,
timed from handing a request to the stream until its acknowledgement. The hook's own round trip
is timed from this process through the ingress's gRPC client (GrpcSendHook).

Prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import multiprocessing
import time
import uuid
from typing import Any

import aiohttp
from aiohttp import web

from bench import send_hook
from parley.adapters.kafka import KafkaEventLog
from parley.adapters.kafka_admin import delete_topics, ensure_topics
from parley.adapters.kafka_records import KafkaRecordWriter
from parley.adapters.wire_webhooks import endpoint_to_proto
from parley.config import Settings
from parley.domain.conversations import ConversationType
from parley.domain.events import Event, MessageSent, TextContent
from parley.domain.log_streams import Stream
from parley.domain.webhooks import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WebhookEndpoint,
    is_valid_signature,
)
from parley.integration import StartAt
from services.webhooks.service import WebhookService
from services.webhooks.topics import ensure_topics as ensure_webhook_topics

SECRET = "bench-secret"
GOAL_PER_S = 1000


def _receiver(port: int, ready: Any) -> None:
    """The endpoint: counts signed deliveries, answers 204; GET /stats reports them."""
    stats = {"count": 0, "bad": 0, "first": 0.0, "last": 0.0}

    async def hook(request: web.Request) -> web.Response:
        body = await request.read()
        timestamp = int(request.headers[TIMESTAMP_HEADER])
        if not is_valid_signature(SECRET, timestamp, body, request.headers[SIGNATURE_HEADER]):
            stats["bad"] += 1
        now = time.monotonic()
        stats["first"] = stats["first"] or now
        stats["last"] = now
        stats["count"] += 1
        return web.Response(status=204)

    async def report(request: web.Request) -> web.Response:
        return web.json_response(stats)

    app = web.Application()
    app.router.add_post("/hook", hook)
    app.router.add_get("/stats", report)
    ready.set()
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


def _events(count: int, conversations: int) -> list[Event]:
    now = int(time.time() * 1000)
    return [
        Event(
            event_id=f"bench-{i}",
            conversation_key=f"g:bench-{i % conversations}",
            conversation_type=ConversationType.GROUP,
            actor=f"user-{i % 50}",
            server_time_ms=now,
            payload=MessageSent(message_id=f"bench-{i}", content=TextContent(f"message {i}")),
        )
        for i in range(count)
    ]


async def _stats(port: int) -> dict[str, Any]:
    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/stats") as r:
        stats: dict[str, Any] = await r.json()
        return stats


async def run(events: int, conversations: int, port: int) -> dict[str, Any]:
    base = Settings()
    tag = uuid.uuid4().hex[:8]
    topic = f"bench-hooks-{tag}"
    settings = base.model_copy(
        update={
            "topic_conversation_events": topic,
            "webhook_topic_endpoints": f"bench-hooks-endpoints-{tag}",
            "webhook_topic_dead_letters": f"bench-hooks-dead-{tag}",
            "webhook_topic_redeliveries": f"bench-hooks-redeliver-{tag}",
            "webhook_group": f"bench-hooks-{tag}",
        }
    )
    ensure_topics(base.kafka_bootstrap, {topic: 6})
    ensure_webhook_topics(settings)
    try:
        log = KafkaEventLog(base.kafka_bootstrap, {Stream.CONVERSATION_EVENTS: topic})
        await log.start()
        backlog = _events(events, conversations)
        for start in range(0, events, 5000):
            await log.append_many(backlog[start : start + 5000])
        await log.close()
        writer = KafkaRecordWriter(base.kafka_bootstrap, "bench-hooks")
        endpoint = WebhookEndpoint(
            "bench", f"http://127.0.0.1:{port}/hook", frozenset({"message_sent"}), SECRET, 0
        )
        value = endpoint_to_proto(endpoint, with_secret=True).SerializeToString()
        await writer.write(settings.webhook_topic_endpoints, b"bench", value)
        await writer.close()
        service = WebhookService(settings, StartAt.committed(fallback="earliest"))
        running = asyncio.create_task(service.run(handle_signals=False))
        cpu_before = time.process_time()
        for _ in range(1200):  # at most 10 minutes
            if (stats := await _stats(port))["count"] >= events:
                break
            await asyncio.sleep(0.5)
        cpu = time.process_time() - cpu_before
        service.stop()
        await running
    finally:
        delete_topics(base.kafka_bootstrap, [topic, *settings.webhook_topics().values()])
    elapsed = stats["last"] - stats["first"]
    per_s = round(events / elapsed) if elapsed > 0 else None
    return {
        "bench": "hooks",
        "webhook_events": events,
        "webhook_conversations": conversations,
        "webhook_events_per_s": per_s,
        "webhook_goal_per_s": GOAL_PER_S,
        "webhook_goal_met": per_s is not None and per_s >= GOAL_PER_S,
        "webhook_bad_signatures": stats["bad"],
        "webhook_dispatcher_cpu_ms_per_event": round(cpu * 1000 / events, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.hooks", description=__doc__)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--conversations", type=int, default=200)
    parser.add_argument("--port", type=int, default=7099)
    parser.add_argument("--send-rate", type=float, default=send_hook.SEND_RATE)
    parser.add_argument(
        "--send-seconds", type=float, default=60.0, help="of sends to each ingress, in all"
    )
    parser.add_argument("--rounds", type=int, default=12, help="alternating windows per ingress")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    ready = multiprocessing.Event()
    receiver = multiprocessing.Process(target=_receiver, args=(args.port, ready), daemon=True)
    receiver.start()
    ready.wait(10)
    try:
        result = asyncio.run(run(args.events, args.conversations, args.port))
    finally:
        receiver.terminate()
        receiver.join(5)
    result |= send_hook.measure(args.send_rate, args.send_seconds, args.rounds)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
