"""Runs ingress server processes: one in-process, or several sharing the port via SO_REUSEPORT."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import tempfile

from parley import heap, metrics
from parley.config import Settings
from parley.observability import configure_logging
from services.ingress.app import ingress_parts
from services.ingress.server import start_server
from services.shell.server import serve_until_signalled


async def run_worker(settings: Settings, *, export_metrics: bool = False) -> None:
    if export_metrics:
        metrics.serve_metrics(settings.ingress_metrics_port, settings.ingress_host)
    async with ingress_parts(settings) as parts:
        heap.settle()
        address = f"{settings.ingress_host}:{settings.ingress_port}"
        running = await start_server(parts.context, parts.authenticator, address, parts.mounts)
        await serve_until_signalled(running)


def worker_main(index: int) -> None:
    settings = Settings()
    configure_logging(f"ingress-{index}", settings.log_level)
    asyncio.run(run_worker(settings))


def run(settings: Settings) -> int:
    """Serves until SIGINT/SIGTERM; returns the exit code."""
    configure_logging("ingress", settings.log_level)
    if settings.ingress_workers == 1:
        asyncio.run(run_worker(settings, export_metrics=True))
        return 0
    # Workers write their samples to a shared directory; this parent exports their sum.
    os.environ[metrics.MULTIPROC_ENV] = tempfile.mkdtemp(prefix="parley-ingress-metrics-")
    # Each worker is a full ingress (own producer, own log follower), so Python's
    # one-core-per-process limit does not cap the throughput of the whole ingress.
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(target=worker_main, args=(i,), name=f"ingress-{i}")
        for i in range(settings.ingress_workers)
    ]
    for worker in workers:
        worker.start()
    metrics.serve_metrics(settings.ingress_metrics_port, settings.ingress_host)

    def forward(signum: int, _frame: object) -> None:
        for worker in workers:
            if worker.pid is not None and worker.is_alive():
                os.kill(worker.pid, signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    for worker in workers:
        worker.join()
    return max((worker.exitcode or 0) for worker in workers)
