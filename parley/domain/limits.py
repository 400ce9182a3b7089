"""Limits of the write side: message and media sizes, mentions, rate, recall window, groups."""

from __future__ import annotations

from dataclasses import dataclass

KIB = 1024
MIB = 1024 * KIB


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
    image_max_bytes: int = 10 * MIB
    file_max_bytes: int = 100 * MIB
    audio_max_bytes: int = 6 * MIB
    audio_max_duration_ms: int = 300_000
    video_max_bytes: int = 100 * MIB
    multiple_max_items: int = 20
    multiple_max_images: int = 10
    thumbnail_max_edge: int = 240  # pixels: renditions keep the aspect ratio inside this box
    large_max_edge: int = 1280
    media_url_max_chars: int = 2048
