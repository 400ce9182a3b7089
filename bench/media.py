"""Media benchmark: upload throughput of 1 MB and 10 MB files through MediaService into MinIO,
and how much a steady upload load degrades the end-to-end message latency of bench/e2e.py.

Starts the whole system (ingress with MediaService, projector, delivery) on fresh topics, a
fresh keyspace and a fresh bucket, measures upload MB/s, then alternates phases of the e2e
message load alone and under a paced background upload load (after one uncounted warm-up
phase, rounds in ABBA order, so slow drift of the machine falls on both sides), and prints one
JSON line. Each side also reports the CPU each part of the system used (bench/cpu_use.py):
whether uploads add work to the message path's processes, or only to the background class.

Defaults: 200 messages/s (50 pairs at 4/s), a load with headroom on this 2-core machine, under
10 MB/s of 1 MB file uploads. Near saturation any added work degrades latency, isolated or not;
what this measures is whether uploads take CPU from the message path while there is room.
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
from minio import Minio

from bench.cpu_use import PARTS, CpuWindow
from bench.e2e import System, measure, running_system
from bench.ingest import issue_tokens, percentile
from parley.config import DEV_ADMIN_SECRET, Settings
from parley.cpu import run_in_background
from parley.gen.parley.v1 import media_pb2_grpc
from parley.sdk.media import CHUNK as SDK_CHUNK
from parley.sdk.media import upload

MB = 1_000_000
# gRPC does not survive fork(): child processes start fresh.
SPAWN = multiprocessing.get_context("spawn")
# Throughput runs push as hard as a client can: large chunks, 8 unanswered at once.
CHUNK = 512 * 1024
WINDOW = 8


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


def upload_load(
    target: str,
    token: str,
    mb_per_s: float,
    nice: int,
    idle: bool,
    cpus: str,
    chunk: int,
    window: int,
    file_mb: float,
    stop: Any,
    queue: Any,
) -> None:
    """A steady background load: files of `file_mb` started at `mb_per_s` per second (open loop,
    up to 8 at once, each sent as the SDK sends by default) until `stop` is set; puts the MB/s
    achieved.

    The uploading clients stand for phones elsewhere; on this one machine their own CPU (Python
    gRPC pushing megabytes) would be charged to the server. In the background CPU class they
    take what the system under test leaves, as the media server and MinIO do."""
    os.setsid()  # its own session: without an idle cgroup, its autogroup is what gets reniced
    run_in_background(nice, idle, cpus)

    async def run() -> float:
        auth = (("authorization", f"Bearer {token}"),)
        data = os.urandom(int(file_mb * MB))
        slots = asyncio.Semaphore(8)
        done = 0
        async with grpc.aio.insecure_channel(target) as channel:
            stub = media_pb2_grpc.MediaServiceStub(channel)

            async def one() -> None:
                nonlocal done
                async with slots:
                    await upload(stub, auth, "file", data, "load.bin", chunk=chunk, window=window)
                done += 1

            started = next_at = time.perf_counter()
            tasks = []
            while not stop.is_set():
                tasks.append(asyncio.ensure_future(one()))
                next_at += file_mb / mb_per_s
                await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
            await asyncio.gather(*tasks)
            return done * file_mb / (time.perf_counter() - started)

    queue.put(asyncio.run(run()))


def phase(
    system: System, tag: str, args: argparse.Namespace, upload_token: str | None
) -> dict[str, Any]:
    """One e2e measurement, under a background upload load when `upload_token` is given."""
    pairs = [(f"s{tag}x{i}", f"r{tag}x{i}") for i in range(args.pairs)]
    if upload_token is None:
        window = CpuWindow.start()
        result = measure(system, pairs, args.rate, args.duration, 1)
        return result | {"upload_mb_per_s": 0.0, "cpu_pct": window.stop()}
    stop, queue = SPAWN.Event(), SPAWN.Queue()
    upload_args = (
        system.media,
        upload_token,
        args.upload_mb_per_s,
        args.upload_client_nice,
        not args.upload_client_normal_policy,
        args.upload_client_cpus,
        args.load_chunk_kb * 1024,
        args.load_window,
        args.load_file_mb,
    )
    load = SPAWN.Process(target=upload_load, args=(*upload_args, stop, queue))
    load.start()
    time.sleep(2.0)  # let the upload load reach its steady state
    try:
        window = CpuWindow.start()
        result = measure(system, pairs, args.rate, args.duration, 1)
        cpu = window.stop()
    finally:
        stop.set()
    rate = queue.get()
    load.join()
    return result | {"upload_mb_per_s": rate, "cpu_pct": cpu}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.media", description=__doc__)
    parser.add_argument("--files-1mb", type=int, default=40)
    parser.add_argument("--files-10mb", type=int, default=8)
    parser.add_argument("--uploaders", type=int, default=2)
    parser.add_argument("--upload-mb-per-s", type=float, default=10.0, help="background load")
    parser.add_argument("--upload-client-nice", type=int, default=10)
    parser.add_argument("--upload-client-normal-policy", action="store_true",
                        help="upload clients niced only: no SCHED_IDLE or cgroup")  # fmt: skip
    parser.add_argument("--upload-client-cpus", default="last",
                        help='as PARLEY_MEDIA_CPUS ("all": any CPU)')  # fmt: skip
    parser.add_argument(
        "--load-file-mb",
        type=float,
        default=1.0,
        help="size of each file of the background upload load",
    )
    parser.add_argument("--load-chunk-kb", type=int, default=SDK_CHUNK // 1024,
                        help="chunk size of the load's uploads (default: the SDK's)")  # fmt: skip
    parser.add_argument("--load-window", type=int, default=1,
                        help="unanswered chunks per load upload (default: the SDK's)")  # fmt: skip
    parser.add_argument("--pairs", type=int, default=50, help="e2e sender/receiver pairs")
    parser.add_argument("--rate", type=float, default=4.0, help="messages/s per sender")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per phase")
    # Eight rounds: with four, five runs of the same code on one day gave +7% to +57%; the p99
    # of a 20 s phase moves with a few bursts of the machine, and more rounds average them out.
    parser.add_argument("--rounds", type=int, default=8, help="baseline+loaded phase pairs")
    parser.add_argument("--ingress-workers", type=int, default=2)
    args = parser.parse_args()
    settings = Settings()
    run = uuid.uuid4().hex[:6]
    bucket = f"parley-bench-{run}"
    minio = Minio(
        settings.minio_endpoint,
        settings.minio_access_key,
        settings.minio_secret_key,
        secure=settings.minio_secure,
    )
    minio.make_bucket(bucket)
    phases: dict[str, list[dict[str, Any]]] = {"baseline": [], "loaded": []}
    try:
        with running_system(args.ingress_workers, {"PARLEY_MINIO_BUCKET": bucket}) as system:
            tokens = asyncio.run(issue_tokens(system.ingress, DEV_ADMIN_SECRET, ["uploader"]))
            uploader = tokens["uploader"]
            rate_1mb = asyncio.run(
                upload_rate(system.media, uploader, MB, args.files_1mb, args.uploaders)
            )
            rate_10mb = asyncio.run(
                upload_rate(system.media, uploader, 10 * MB, args.files_10mb, args.uploaders)
            )
            # The first phase on fresh topics and a fresh keyspace runs into cold caches and
            # JIT (its p99 was 2-3x the next ones'): it warms the system and is not counted.
            phase(system, f"{run}w", args, None)
            # --upload-mb-per-s 0: both sides without uploads, to see the bench's own spread.
            load_token = uploader if args.upload_mb_per_s > 0 else None
            for r in range(args.rounds):
                # ABBA order: drift of the machine over the run falls on both sides alike.
                order = ["baseline", "loaded"] if r % 2 == 0 else ["loaded", "baseline"]
                for name in order:
                    token = load_token if name == "loaded" else None
                    phases[name].append(phase(system, f"{run}{name[0]}{r}", args, token))
    finally:
        for item in minio.list_objects(bucket, recursive=True):
            minio.remove_object(bucket, item.object_name)
        minio.remove_bucket(bucket)
    figures: dict[str, Any] = {}
    for name, results in phases.items():
        latencies = [v for r in results for v in r["latencies"]]
        figures[name] = {
            "p50_ms": round(percentile(latencies, 0.50), 2),
            "p99_ms": round(percentile(latencies, 0.99), 2),
            "p99_ms_per_round": [r["p99_ms"] for r in results],
            # The ingress's part: until the send was acknowledged (in Kafka).
            "send_ack_p99_ms_per_round": [r["send_ack_p99_ms"] for r in results],
            "msgs_per_s": round(sum(r["msgs_per_s"] for r in results) / len(results), 1),
            "upload_mb_per_s": round(sum(r["upload_mb_per_s"] for r in results) / len(results), 1),
            # % of one core each part of the system used, mean over the rounds
            "cpu_pct": {
                part: round(sum(r["cpu_pct"][part] for r in results) / len(results), 1)
                for part in PARTS
            },
            **{
                k: sum(r[k] for r in results)
                for k in ("accepted", "lost", "duplicated", "out_of_order")
            },
        }
    base, loaded = figures["baseline"], figures["loaded"]
    base_p99s, loaded_p99s = base["p99_ms_per_round"], loaded["p99_ms_per_round"]
    print(
        json.dumps(
            {
                "bench": "media",
                "upload_mb_per_s_1mb": round(rate_1mb, 1),
                "upload_mb_per_s_10mb": round(rate_10mb, 1),
                "e2e_baseline": base,
                "e2e_under_upload": loaded,
                "e2e_p99_degradation_pct": round((loaded["p99_ms"] / base["p99_ms"] - 1) * 100, 1),
                # The spread behind it: each round's loaded p99 against its own baseline p99.
                "e2e_p99_degradation_pct_per_round": [
                    round((b / a - 1) * 100, 1) for a, b in zip(base_p99s, loaded_p99s, strict=True)
                ],
                "e2e_p50_degradation_pct": round((loaded["p50_ms"] / base["p50_ms"] - 1) * 100, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
