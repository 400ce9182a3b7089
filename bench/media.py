"""Media benchmark: upload throughput of 1 MB and 10 MB files through MediaService into MinIO,
and how much a steady upload load degrades the ingest send p99 of the same ingress process.

Starts its own ingress (with MediaService mounted, objects under a fresh bucket prefix) on
fresh topics, and prints one JSON line. The end-to-end (delivery) p99 of bench/e2e.py is not
measured here: the ingress it starts does not mount MediaService yet.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import time
import uuid
from typing import Any

import grpc

from bench.ingest import bench_topics, free_port, issue_tokens, percentile, wait_serving
from parley.adapters.kafka_admin import delete_topics
from parley.config import DEV_ADMIN_SECRET, Settings
from parley.gen.parley.v1 import common_pb2, ingress_pb2, ingress_pb2_grpc, media_pb2_grpc
from parley.sdk.media import upload

MB = 1_000_000
# gRPC does not survive fork(): child processes start fresh.
SPAWN = multiprocessing.get_context("spawn")
PEER = common_pb2.CONVERSATION_TYPE_PEER
CHUNK = 512 * 1024
WINDOW = 8


def serve(port: int, topics: dict[str, str], prefix: str) -> None:
    """The ingress process: the usual services plus MediaService."""
    from services.ingress.app import ingress_parts
    from services.ingress.server import start_server
    from services.media.app import media_deps
    from services.media.mount import add_media_services

    async def run() -> None:
        settings = Settings(
            topic_conversation_events=topics["conversation_events"],
            topic_signals=topics["signals"],
            topic_broadcasts=topics["broadcasts"],
            topic_user_updates=topics["user_updates"],
            admin_secret=DEV_ADMIN_SECRET,
            log_level="WARNING",
        )
        async with ingress_parts(settings) as parts:
            deps = media_deps(parts.context, settings, prefix)
            mounts = [*parts.mounts, lambda server: add_media_services(server, deps)]
            address = f"127.0.0.1:{port}"
            running = await start_server(parts.context, parts.authenticator, address, mounts)
            try:
                await asyncio.Event().wait()  # until the bench terminates this process
            finally:
                await running.stop(1.0)

    asyncio.run(run())


async def upload_rate(target: str, token: str, size: int, count: int, uploaders: int) -> float:
    """MB/s over `count` FILE uploads of `size` bytes by `uploaders` concurrent clients."""
    auth = (("authorization", f"Bearer {token}"),)
    data = os.urandom(size)
    async with grpc.aio.insecure_channel(target) as channel:
        stub = media_pb2_grpc.MediaServiceStub(channel)
        queue = list(range(count))

        async def worker() -> None:
            while queue:
                queue.pop()
                await upload(stub, auth, "file", data, "bench.bin", chunk=CHUNK, window=WINDOW)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(uploaders)))
        return size * count / MB / (time.perf_counter() - started)


def upload_load(target: str, token: str, duration_s: float, queue: Any) -> None:
    """A steady background load: two clients uploading 1 MB files back to back; puts MB/s."""

    async def run() -> float:
        deadline, rates = time.monotonic() + duration_s, []
        while time.monotonic() < deadline:
            rates.append(await upload_rate(target, token, MB, 4, 2))
        return sum(rates) / max(1, len(rates))

    queue.put(asyncio.run(run()))


async def send_latencies(
    target: str, tokens: dict[str, str], rate: float, duration_s: float
) -> list[float]:
    """Unary sends at `rate` per second in total, spread over the users; latencies in ms."""
    latencies: list[float] = []
    async with grpc.aio.insecure_channel(target) as channel:
        stub = ingress_pb2_grpc.MessagingServiceStub(channel)
        users = sorted(tokens)

        async def user_loop(index: int, user: str) -> None:
            interval = len(users) / rate
            peer = users[(index + 1) % len(users)]
            auth = (("authorization", f"Bearer {tokens[user]}"),)
            deadline = time.monotonic() + duration_s
            await asyncio.sleep(interval * index / len(users))
            while time.monotonic() < deadline:
                request = ingress_pb2.SendMessageRequest(
                    conversation=common_pb2.ConversationRef(type=PEER, id=peer),
                    client_message_id=uuid.uuid4().hex,
                    body=common_pb2.MessageBody(text=common_pb2.TextContent(text="ping")),
                )
                started = time.perf_counter()
                await stub.SendMessage(request, metadata=auth)
                latencies.append((time.perf_counter() - started) * 1000)
                await asyncio.sleep(max(0.0, interval - (time.perf_counter() - started)))

        await asyncio.gather(*(user_loop(i, u) for i, u in enumerate(users)))
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files-1mb", type=int, default=40)
    parser.add_argument("--files-10mb", type=int, default=8)
    parser.add_argument("--uploaders", type=int, default=2)
    parser.add_argument("--send-rate", type=float, default=200.0, help="sends/s in total")
    parser.add_argument("--duration", type=float, default=15.0, help="seconds per latency phase")
    args = parser.parse_args()
    run_id = uuid.uuid4().hex[:6]
    topics = bench_topics(run_id)
    port = free_port()
    target = f"127.0.0.1:{port}"
    server = SPAWN.Process(target=serve, args=(port, topics, f"bench-{run_id}/"))
    server.start()
    try:
        wait_serving(target, 120)
        users = [f"media{run_id}u{i}" for i in range(20)]
        tokens = asyncio.run(issue_tokens(target, DEV_ADMIN_SECRET, [*users, "uploader"]))
        uploader = tokens.pop("uploader")
        rate_1mb = asyncio.run(upload_rate(target, uploader, MB, args.files_1mb, args.uploaders))
        rate_10mb = asyncio.run(
            upload_rate(target, uploader, 10 * MB, args.files_10mb, args.uploaders)
        )
        # the send p99 alone, then under a steady upload load on the same ingress
        baseline = asyncio.run(send_latencies(target, tokens, args.send_rate, args.duration))
        queue: Any = SPAWN.Queue()
        load = SPAWN.Process(target=upload_load, args=(target, uploader, args.duration + 2, queue))
        load.start()
        time.sleep(1.0)  # let the load reach its steady state
        loaded = asyncio.run(send_latencies(target, tokens, args.send_rate, args.duration))
        load_rate = queue.get()
        load.join()
    finally:
        server.terminate()
        server.join(30)
        delete_topics(Settings().kafka_bootstrap, list(topics.values()))
    p99_base, p99_loaded = percentile(baseline, 0.99), percentile(loaded, 0.99)
    print(
        json.dumps(
            {
                "bench": "media",
                "upload_mb_per_s_1mb": round(rate_1mb, 1),
                "upload_mb_per_s_10mb": round(rate_10mb, 1),
                "background_upload_mb_per_s": round(load_rate, 1),
                "ingest_send_p99_ms": round(p99_base, 2),
                "ingest_send_p99_under_upload_ms": round(p99_loaded, 2),
                "ingest_p99_degradation_pct": round((p99_loaded / p99_base - 1) * 100, 1),
                "sends": len(baseline) + len(loaded),
            }
        )
    )


if __name__ == "__main__":
    main()
