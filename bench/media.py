"""Media benchmark: upload throughput of 1 MB and 10 MB files through MediaService into MinIO,
and how much a steady upload load degrades the end-to-end message latency of bench/e2e.py.

Starts the whole system (ingress with MediaService, projector, delivery) on fresh topics, a
fresh keyspace and a fresh bucket, and measures upload MB/s. Then it runs one continuous e2e
message load and switches a paced background upload load on and off beside it: after an
uncounted warm-up, rounds of two 10 s windows in ABBA order, so the machine's own bursts and
drift fall on both sides alike. Each message counts for the window it was sent in. It prints
one JSON line. Each side also reports the CPU each part of the system used (bench/cpu_use.py):
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
import statistics
import threading
import time
import uuid
from dataclasses import dataclass
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
# Seconds from starting the e2e load process until its senders run (sessions connected).
SETUP_S = 10.0


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
    active: Any,
    stop: Any,
    queue: Any,
) -> None:
    """A background load switched by `active`: while it is set, files of `file_mb` start at
    `mb_per_s` per second (open loop, up to 8 at once, each sent as the SDK sends by default);
    ends when `stop` is set and puts the MB/s achieved while active.

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
        active_s = 0.0
        async with grpc.aio.insecure_channel(target) as channel:
            stub = media_pb2_grpc.MediaServiceStub(channel)

            async def one() -> None:
                nonlocal done
                async with slots:
                    await upload(stub, auth, "file", data, "load.bin", chunk=chunk, window=window)
                done += 1

            tasks = []
            while not stop.is_set():
                if not active.is_set():
                    await asyncio.sleep(0.02)
                    continue
                started = next_at = time.perf_counter()
                while active.is_set() and not stop.is_set():
                    tasks.append(asyncio.ensure_future(one()))
                    next_at += file_mb / mb_per_s
                    await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
                active_s += time.perf_counter() - started
            await asyncio.gather(*tasks)
            return done * file_mb / active_s if active_s else 0.0

    queue.put(asyncio.run(run()))


@dataclass
class Window:
    """One stretch of the e2e run on one side (wall clock, ns), and the CPU used in it."""

    side: str
    start_ns: int
    end_ns: int
    cpu_pct: dict[str, float]


def switch_sides(
    windows: list[Window], schedule: list[str], at_ns: int, window_s: float, active: Any
) -> None:
    """From wall clock `at_ns` on, one window of `window_s` per entry of `schedule`, the upload
    load on during "loaded" windows; appends each finished window (run it in a thread)."""
    for i, side in enumerate(schedule):
        start_ns = at_ns + int(i * window_s * 1e9)
        time.sleep(max(0.0, (start_ns - time.time_ns()) / 1e9))
        if side == "loaded":
            active.set()
        else:
            active.clear()
        cpu = CpuWindow.start()
        end_ns = start_ns + int(window_s * 1e9)
        time.sleep(max(0.0, (end_ns - time.time_ns()) / 1e9))
        windows.append(Window(side, start_ns, end_ns, cpu.stop()))
    active.clear()


def interleaved(system: System, args: argparse.Namespace, upload_token: str | None) -> Any:
    """One continuous e2e load; the upload load switched on and off in ABBA order.

    Each latency belongs to the window its message was sent in; the first `settle_s` of a
    window are left out (uploads started in the window before are finishing). Short windows
    in one run, rather than a 20 s phase per load process, spread the machine's own bursts over
    both sides: A/A runs (no uploads on either side) measured +18% with phases, +1% with
    windows (median of the rounds +4%)."""
    run = uuid.uuid4().hex[:6]
    pairs = [(f"s{run}x{i}", f"r{run}x{i}") for i in range(args.pairs)]
    schedule = [
        side
        for r in range(args.rounds)
        for side in (("baseline", "loaded") if r % 2 == 0 else ("loaded", "baseline"))
    ]
    active, stop, queue = SPAWN.Event(), SPAWN.Event(), SPAWN.Queue()
    load = None
    if upload_token is not None:
        upload_args = (
            system.media, upload_token, args.upload_mb_per_s, args.upload_client_nice,
            not args.upload_client_normal_policy, args.upload_client_cpus,
            args.load_chunk_kb * 1024, args.load_window, args.load_file_mb,
        )  # fmt: skip
        load = SPAWN.Process(target=upload_load, args=(*upload_args, active, stop, queue))
        load.start()
    # The senders start once their sessions are up (a few seconds); the first windows open
    # after the warm-up, and the senders go on a little past the last one.
    windows: list[Window] = []
    first_ns = time.time_ns() + int((SETUP_S + args.warmup) * 1e9)
    switcher = threading.Thread(
        target=switch_sides, args=(windows, schedule, first_ns, args.window, active)
    )
    switcher.start()
    try:
        duration = SETUP_S + args.warmup + len(schedule) * args.window + 2.0
        result = measure(system, pairs, args.rate, duration, 1)
    finally:
        switcher.join()
        stop.set()
    rate = queue.get() if load is not None else 0.0
    if load is not None:
        load.join()
    return result, windows, rate


def side_figures(
    result: dict[str, Any], windows: list[Window], side: str, settle_s: float, rate: float
) -> dict[str, Any]:
    """Latency and CPU figures of one side over its windows."""
    per_window: list[list[float]] = []
    for w in (w for w in windows if w.side == side):
        begin = w.start_ns + int(settle_s * 1e9)
        per_window.append(
            [v for v, at in zip(result["latencies"], result["sent_ns"], strict=True)
             if begin <= at < w.end_ns]
        )  # fmt: skip
    latencies = [v for values in per_window for v in values]
    mine = [w for w in windows if w.side == side]
    return {
        "p50_ms": round(percentile(latencies, 0.50), 2),
        "p99_ms": round(percentile(latencies, 0.99), 2),
        "p99_ms_per_round": [round(percentile(values, 0.99), 2) for values in per_window],
        "messages": len(latencies),
        "upload_mb_per_s": round(rate, 1) if side == "loaded" else 0.0,
        # % of one core each part of the system used, mean over the windows
        "cpu_pct": {
            part: round(sum(w.cpu_pct[part] for w in mine) / len(mine), 1) for part in PARTS
        },
    }


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
    parser.add_argument("--window", type=float, default=10.0, help="seconds per window")
    parser.add_argument("--rounds", type=int, default=16, help="baseline+loaded window pairs")
    parser.add_argument("--warmup", type=float, default=20.0,
                        help="seconds of uncounted e2e load before the first window")  # fmt: skip
    parser.add_argument("--settle", type=float, default=1.0,
                        help="seconds left out at the start of each window")  # fmt: skip
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
            # --upload-mb-per-s 0: both sides without uploads, to see the bench's own spread.
            load_token = uploader if args.upload_mb_per_s > 0 else None
            result, windows, rate = interleaved(system, args, load_token)
    finally:
        for item in minio.list_objects(bucket, recursive=True):
            minio.remove_object(bucket, item.object_name)
        minio.remove_bucket(bucket)
    figures = {
        side: side_figures(result, windows, side, args.settle, rate)
        for side in ("baseline", "loaded")
    }
    totals = {k: result[k] for k in ("accepted", "lost", "duplicated", "out_of_order")}
    base, loaded = figures["baseline"], figures["loaded"]
    base_p99s, loaded_p99s = base["p99_ms_per_round"], loaded["p99_ms_per_round"]
    per_round = [round((b / a - 1) * 100, 1) for a, b in zip(base_p99s, loaded_p99s, strict=True)]
    print(
        json.dumps(
            {
                "bench": "media",
                "upload_mb_per_s_1mb": round(rate_1mb, 1),
                "upload_mb_per_s_10mb": round(rate_10mb, 1),
                "e2e_baseline": base,
                "e2e_under_upload": loaded,
                "e2e_p99_degradation_pct": round((loaded["p99_ms"] / base["p99_ms"] - 1) * 100, 1),
                # The spread behind it: each round's loaded p99 against its own baseline p99,
                # and their median (a burst of the machine in one window moves the pooled p99).
                "e2e_p99_degradation_pct_per_round": per_round,
                "e2e_p99_degradation_pct_median_round": round(statistics.median(per_round), 1),
                "e2e_p50_degradation_pct": round((loaded["p50_ms"] / base["p50_ms"] - 1) * 100, 1),
                **totals,
            }
        )
    )


if __name__ == "__main__":
    main()
