"""Upload rules: which formats each media type accepts, limits, renditions, the upload event."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass

from parley.domain.commands import Stamp
from parley.domain.conversations import Conversation, ConversationType, user_key
from parley.domain.errors import Reason, Rejected
from parley.domain.events import (
    AudioContent,
    Event,
    FileContent,
    ImageContent,
    MediaContent,
    MediaRef,
    MediaUploaded,
    MessageType,
    Picture,
    VideoContent,
)
from parley.domain.limits import MIB, Limits
from parley.domain.media_content import check_duration, check_size

MEDIA_TYPES = frozenset({MessageType.IMAGE, MessageType.FILE, MessageType.AUDIO, MessageType.VIDEO})
# Formats by content, as a probe names them. M4A is MPEG-4 audio: an "mp4" without video counts.
IMAGE_FORMATS = frozenset({"jpeg", "png", "bmp", "tiff", "gif", "webp"})
AUDIO_FORMATS = frozenset({"mp3", "m4a"})
VIDEO_FORMATS = frozenset({"mp4", "mov"})
FILE_NAME_MAX_CHARS = 255
_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f/\\]")
# Fixed, not among the configurable Limits: media.proto promises clients this bound.
UPLOAD_CHUNK_MAX_BYTES = MIB
UPLOAD_ID_PATTERN = re.compile(r"^u_[0-9a-f]{24}$")


@dataclass(frozen=True)
class Probed:
    """What a content probe read from a file (never from its name or a declared type)."""

    mime_type: str
    format: str = ""  # jpeg png bmp tiff gif webp mp3 m4a mp4 mov, or "" when none of them
    width: int = 0
    height: int = 0
    duration_ms: int = 0
    has_video: bool = False
    has_audio: bool = False


def check_media_type(kind: MessageType) -> MessageType:
    if kind not in MEDIA_TYPES:
        raise Rejected(Reason.BAD_PARAMETER, "an upload is an image, file, audio or video")
    return kind


def check_upload(kind: MessageType, size: int, probed: Probed, limits: Limits) -> None:
    """Size first (it is known before probing), then format by content, then duration."""
    check_size(kind, size, limits)
    if kind is MessageType.FILE:
        return
    if not _is_accepted_format(kind, probed):
        found = probed.format or probed.mime_type or "unknown content"
        raise Rejected(Reason.MEDIA_TYPE_UNSUPPORTED, f"{kind.name.lower()} cannot be {found}")
    check_duration(kind, probed.duration_ms, limits)


def _is_accepted_format(kind: MessageType, probed: Probed) -> bool:
    if kind is MessageType.IMAGE:
        return probed.format in IMAGE_FORMATS and probed.width > 0 and probed.height > 0
    if kind is MessageType.AUDIO:
        is_audio_mp4 = probed.format == "mp4" and not probed.has_video
        return (probed.format in AUDIO_FORMATS or is_audio_mp4) and probed.has_audio
    return probed.format in VIDEO_FORMATS and probed.has_video


def check_upload_chunk(size: int) -> None:
    """A streamed upload's chunk carries at most 1 MiB. The bound is part of the API (media.proto
    documents it), so a client can rely on it; it keeps a chunk, with its envelope, far below the
    4 MiB a gRPC frame may have on the API server, and bounds what one upload holds in memory at
    once, since the server writes each chunk to its scratch file before reading the next."""
    if size > UPLOAD_CHUNK_MAX_BYTES:
        raise Rejected(Reason.BAD_PARAMETER, f"chunks carry at most {UPLOAD_CHUNK_MAX_BYTES} bytes")


def upload_id_from(random_bytes: bytes) -> str:
    """ "u_" + 24 lowercase hex digits of 96 random bits (the caller draws them): unguessable,
    and safe in any store key."""
    if len(random_bytes) < 12:
        raise ValueError("an upload id needs 12 random bytes")
    return "u_" + random_bytes[:12].hex()


def check_upload_id(upload_id: str) -> None:
    """An upload id becomes part of a store key (staging/<owner>/<upload id>, its manifest beside
    it as <upload id>.json): only the exact form upload_id_from issues is looked up, so a client
    cannot make the server read another key, such as a manifest or a longer path."""
    if not UPLOAD_ID_PATTERN.fullmatch(upload_id):
        raise Rejected(Reason.BAD_PARAMETER, "upload_id is not an upload id")


def fit_box(width: int, height: int, edge: int) -> tuple[int, int]:
    """Scales (width, height) down to fit an edge x edge box, keeping the aspect ratio;
    never scales up, never to zero."""
    scale = min(1.0, edge / max(width, height, 1))
    return max(1, round(width * scale)), max(1, round(height * scale))


def clean_file_name(name: str) -> str:
    """The last path segment without control characters, at most 255 characters."""
    base = re.split(r"[/\\]", name)[-1]
    cleaned = _UNSAFE_NAME.sub("", base).strip()[:FILE_NAME_MAX_CHARS]
    return cleaned or "file"


def object_id_from(random_bytes: bytes) -> str:
    """ "o_" + 26 lowercase base32 characters of 128 random bits (the caller draws them)."""
    if len(random_bytes) < 16:
        raise ValueError("an object id needs 16 random bytes")
    return "o_" + base64.b32encode(random_bytes[:16]).decode().rstrip("=").lower()


def media_content_of(
    kind: MessageType,
    media: MediaRef,
    probed: Probed,
    renditions: dict[str, Picture],
) -> MediaContent:
    """The description a message will carry; `renditions` by name (thumbnail, large,
    first_frame) as stored beside the original."""
    if kind is MessageType.IMAGE:
        return ImageContent(
            media, probed.width, probed.height,
            renditions.get("thumbnail", Picture()), renditions.get("large", Picture()),
        )  # fmt: skip
    if kind is MessageType.AUDIO:
        return AudioContent(media, probed.duration_ms)
    if kind is MessageType.VIDEO:
        frame = renditions.get("first_frame", Picture())
        return VideoContent(media, probed.duration_ms, probed.width, probed.height, frame)
    return FileContent(media)


def decide_media_uploaded(owner: str, content: MediaContent, stamp: Stamp) -> Event:
    """Registers a validated upload on the uploader's own stream."""
    return stamp.event(
        Conversation(ConversationType.PEER, user_key(owner)), owner, MediaUploaded(content)
    )
