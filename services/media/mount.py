"""Mounting MediaService on a gRPC server (the ingress server calls this)."""

from __future__ import annotations

from typing import Any

from parley.gen.parley.v1 import media_pb2, media_pb2_grpc
from services.media.servicer import MediaServicer
from services.media.uploads import MediaDeps

MEDIA_SERVICE_NAMES = tuple(
    service.full_name for service in media_pb2.DESCRIPTOR.services_by_name.values()
)


def add_media_services(server: Any, deps: MediaDeps) -> tuple[str, ...]:
    """Adds MediaService to a grpc.aio server whose interceptors authenticate callers
    (services.shell.auth); returns its full name (for reflection and health)."""
    media_pb2_grpc.add_MediaServiceServicer_to_server(MediaServicer(deps), server)
    return MEDIA_SERVICE_NAMES
