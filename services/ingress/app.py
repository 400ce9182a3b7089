"""Composition root of the ingress process: the write side, with the read API and MediaService
mounted beside the ingress's own servicers on one port."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

from parley.config import Settings
from parley.domain.moderation import Interceptor
from services.media.app import media_deps
from services.media.mount import add_media_services
from services.media.uploads import MediaDeps
from services.query.mount import add_query_services, query_deps
from services.shell.auth import Authenticator
from services.shell.server import Mount
from services.writes.app import write_side
from services.writes.context import IngressContext


@dataclass
class IngressParts:
    context: IngressContext
    authenticator: Authenticator
    media: MediaDeps
    mounts: list[Mount] = field(default_factory=list)


@contextlib.asynccontextmanager
async def ingress_parts(
    settings: Settings,
    interceptors: Sequence[Interceptor] = (),
    media_prefix: str = "",
) -> AsyncIterator[IngressParts]:
    """The write side with the read API over Cassandra (reads see the caller's own writes) and
    MediaService (`media_prefix` namespaces the media bucket) mounted."""
    async with write_side(settings, interceptors) as write:
        query = query_deps(
            write.session,
            write.positions,
            settings.topic_conversation_events,
            settings.read_your_writes_timeout_s,
        )
        media = media_deps(write.context, settings, media_prefix)
        mounts: list[Mount] = [
            lambda server: add_query_services(server, query),
            lambda server: add_media_services(server, media),
        ]
        yield IngressParts(write.context, write.authenticator, media, mounts)
