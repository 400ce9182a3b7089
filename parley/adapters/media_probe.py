"""PillowAvMediaProbe: the MediaProbe port over Pillow (images), PyAV/FFmpeg (audio, video)
and filetype (magic numbers, MPEG-4 brands)."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import av
import filetype
from PIL import Image, ImageOps

from parley.domain.events import MessageType
from parley.domain.media_uploads import Probed, fit_box
from parley.ports import RenderedPicture

# Pillow's format names for the image formats Parley knows; anything else is "" (unsupported).
_IMAGE_FORMATS = {"JPEG": "jpeg", "PNG": "png", "BMP": "bmp", "TIFF": "tiff", "GIF": "gif",
                  "WEBP": "webp", "MPO": "jpeg"}  # fmt: skip
# MPEG-4 family by the file's magic/brand: QuickTime is MOV, the M4A brand is audio.
_AV_FORMATS = {
    "audio/mpeg": "mp3",
    "audio/x-m4a": "m4a",
    "audio/m4a": "m4a",
    "audio/mp4": "m4a",
    "video/mp4": "mp4",
    "video/x-m4v": "mp4",
    "video/quicktime": "mov",
}
JPEG_QUALITY = 85
# Decompression bombs: more pixels than this is refused rather than decoded (about 16k x 16k).
MAX_PIXELS = 256_000_000
Image.MAX_IMAGE_PIXELS = MAX_PIXELS


class PillowAvMediaProbe:
    def probe(self, path: str, kind: MessageType) -> Probed:
        guess = filetype.guess(path)
        mime = guess.mime if guess is not None else "application/octet-stream"
        if kind is MessageType.IMAGE:
            return _probe_image(path, mime) or Probed(mime)
        if kind in (MessageType.AUDIO, MessageType.VIDEO):
            return _probe_av(path, mime) or Probed(mime)
        # A file may be anything: its magic-number type is all a message needs. FFmpeg probing
        # arbitrary bytes scans them for a format and cost more than all the rest of an upload.
        return Probed(mime)

    def render(
        self, kind: MessageType, path: str, out_dir: str, thumbnail_edge: int, large_edge: int
    ) -> dict[str, RenderedPicture]:
        if kind is MessageType.IMAGE:
            picture = _open_picture(path)
            return {
                "thumbnail": _save(picture, thumbnail_edge, Path(out_dir) / "thumbnail.jpg"),
                "large": _save(picture, large_edge, Path(out_dir) / "large.jpg"),
            }
        if kind is MessageType.VIDEO:
            frame = _first_frame(path)
            return {"first_frame": _save(frame, large_edge, Path(out_dir) / "first_frame.jpg")}
        return {}


def _probe_image(path: str, mime: str) -> Probed | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                fmt = _IMAGE_FORMATS.get(image.format or "", "")
                width, height = image.size
                image.load()  # a header alone is not an image: the pixels must decode
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError,
            Image.DecompressionBombWarning):  # fmt: skip
        return None
    return Probed(Image.MIME.get(image.format or "", mime), fmt, width, height)


def _probe_av(path: str, mime: str) -> Probed | None:
    try:
        with av.open(path, metadata_errors="ignore") as container:
            video = next(iter(container.streams.video), None)
            has_audio = bool(container.streams.audio)
            if video is None and not has_audio:
                return None
            duration_ms = _duration_ms(container)
            width = video.codec_context.width if video is not None else 0
            height = video.codec_context.height if video is not None else 0
            if video is not None and next(container.decode(video), None) is None:
                return None  # a video stream without a decodable frame is no video
    except (av.FFmpegError, OSError, ValueError, StopIteration):
        return None
    fmt = _AV_FORMATS.get(mime, "")
    if not fmt and container.format.name == "mp3":
        fmt = "mp3"  # an MP3 without an ID3 tag has no magic filetype knows
    return Probed(mime, fmt, width, height, duration_ms, video is not None, has_audio)


def _duration_ms(container: av.container.InputContainer) -> int:
    if container.duration is not None:
        return round(container.duration * 1000 / av.time_base)
    longest = 0.0
    for stream in container.streams:
        if stream.duration is not None and stream.time_base is not None:
            longest = max(longest, float(stream.duration * stream.time_base))
    return round(longest * 1000)


def _open_picture(path: str) -> Image.Image:
    try:
        with Image.open(path) as image:
            image.seek(0)  # animated GIF and WebP: the first frame stands for the image
            upright = ImageOps.exif_transpose(image)
            return _flatten(upright)
    except (OSError, ValueError, SyntaxError) as error:
        raise ValueError(f"cannot decode the image: {error}") from error


def _first_frame(path: str) -> Image.Image:
    try:
        with av.open(path) as container:
            for frame in container.decode(video=0):
                return _flatten(frame.to_image())  # type: ignore[no-untyped-call]
    except (av.FFmpegError, OSError) as error:
        raise ValueError(f"cannot decode the video: {error}") from error
    raise ValueError("the video has no frame")


def _flatten(image: Image.Image) -> Image.Image:
    """RGB for JPEG: transparency is laid on white, palettes and greyscale are expanded."""
    if image.mode in ("RGBA", "LA", "P", "PA"):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


def _save(image: Image.Image, edge: int, target: Path) -> RenderedPicture:
    width, height = fit_box(image.width, image.height, edge)
    resized = image.resize((width, height), Image.Resampling.LANCZOS)
    resized.save(target, "JPEG", quality=JPEG_QUALITY, optimize=True)
    return RenderedPicture(str(target), width, height, os.path.getsize(target))
