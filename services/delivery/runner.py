"""Runs one delivery server process (several may run side by side, each following the whole log)."""

from __future__ import annotations

import asyncio

from parley import heap, metrics
from parley.config import Settings
from parley.observability import configure_logging
from services.delivery.app import delivery_parts
from services.delivery.server import start_server
from services.shell.server import serve_until_signalled


async def run_server(settings: Settings) -> None:
    # Exported from the start, so the start-up fold (events folded) can be watched too.
    metrics.serve_metrics(settings.delivery_metrics_port, settings.delivery_host)
    async with delivery_parts(settings) as parts:
        heap.settle()
        address = f"{settings.delivery_host}:{settings.delivery_port}"
        running = await start_server(parts.context, address)
        await serve_until_signalled(running)


def run(settings: Settings) -> int:
    """Serves until SIGINT/SIGTERM (sessions get GoAway first); returns the exit code."""
    configure_logging("delivery", settings.log_level)
    asyncio.run(run_server(settings))
    return 0
