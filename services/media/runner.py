"""Runs the media server: MediaService on its own port, in a process of lower CPU priority.

Uploads move megabytes through Python, MinIO and the probes; on a host shared with the message
path that work must not delay messages. So media gets a process of its own (its own event loop
and GIL, no message traffic) in the background CPU class (`parley.cpu`: `media_nice`,
SCHED_IDLE, confined to `media_cpus`, in an idle CPU cgroup): when the CPU is short, the kernel
runs the ingress, delivery and projector first, and uploads slow down instead of messages.
"""

from __future__ import annotations

import asyncio
import logging

from parley import heap
from parley.config import Settings
from parley.cpu import run_in_background
from parley.observability import configure_logging
from services.media.app import media_deps
from services.media.cleanup import cleanup_every
from services.media.mount import add_media_services
from services.shell.server import serve_api, serve_until_signalled
from services.writes.app import write_side

log = logging.getLogger(__name__)


async def run_server(settings: Settings) -> None:
    """Serves MediaService and, beside it, deletes garbage from MinIO on the schedule the
    settings choose (the write model it follows says what a dismissed room left)."""
    async with write_side(settings) as parts:
        media = media_deps(parts.context, settings)
        heap.settle()
        address = f"{settings.ingress_host}:{settings.media_port}"
        mounts = [lambda server: add_media_services(server, media)]
        running = await serve_api("media", parts.authenticator, address, mounts)
        interval_s = settings.media_cleanup_interval_s
        context = parts.context
        async with cleanup_every(context.model, media.store, interval_s, context.media_lookup):
            await serve_until_signalled(running)


def run(settings: Settings) -> int:
    """Serves until SIGINT/SIGTERM; returns the exit code."""
    configure_logging("media", settings.log_level)
    placement = run_in_background(
        settings.media_nice, settings.media_sched_idle, settings.media_cpus
    )
    if placement == "none":
        log.warning(
            "media server is in no idle CPU cgroup and does not lead its session: message-path "
            "processes may wait for it (run it as root, or start it with `parley run`)"
        )
    asyncio.run(run_server(settings))
    return 0
