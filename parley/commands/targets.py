"""Where a command finds the services: gRPC targets from Settings (0.0.0.0 means localhost)."""

from __future__ import annotations

from parley.config import Settings


def _reachable(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "", "::") else host


def ingress_target(settings: Settings) -> str:
    return f"{_reachable(settings.ingress_host)}:{settings.ingress_port}"


def delivery_target(settings: Settings) -> str:
    return f"{_reachable(settings.delivery_host)}:{settings.delivery_port}"


def media_target(settings: Settings) -> str:
    return f"{_reachable(settings.ingress_host)}:{settings.media_port}"
