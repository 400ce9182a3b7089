"""Limits of the write side: message sizes, mentions, rate, recall window, group and name sizes."""

from __future__ import annotations

from dataclasses import dataclass

KIB = 1024


@dataclass(frozen=True)
class Limits:
    """Configurable limits; sizes are UTF-8 bytes, never characters (clients count bytes too)."""

    text_max_bytes: int = 32 * KIB
    command_max_bytes: int = 5 * KIB
    barrage_max_bytes: int = 5 * KIB
    custom_max_bytes: int = 32 * KIB  # data + searchable content together
    max_mentions: int = 50
    rate_per_second: int = 10  # every message type except barrage
    recall_window_ms: int = 120_000
    client_message_id_max: int = 64  # characters
    ext_max_entries: int = 32
    ext_max_bytes: int = 4096  # keys + values
    group_max_members: int = 2000  # the owner included
    name_max_chars: int = 100
