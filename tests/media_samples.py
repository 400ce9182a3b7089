"""Real sample media made on the fly: images via Pillow, MP3/M4A/MP4/MOV via PyAV's FFmpeg."""

from __future__ import annotations

import math
import random
import struct
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
from PIL import Image, ImageDraw

IMAGE_FORMATS = {"jpeg": "jpg", "png": "png", "bmp": "bmp", "tiff": "tiff", "gif": "gif",
                 "webp": "webp"}  # fmt: skip
AUDIO_CODECS = {"mp3": ("mp3", "libmp3lame"), "m4a": ("ipod", "aac")}
VIDEO_CONTAINERS = {"mp4": "mp4", "mov": "mov"}


def image(directory: Path, fmt: str, width: int = 640, height: int = 480) -> Path:
    """A gradient with a diagonal, so encoders cannot collapse it to nothing."""
    path = directory / f"sample.{IMAGE_FORMATS[fmt]}"
    picture = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    for i in range(min(width, height)):
        picture.putpixel((i, i), (255, 0, 0))
    picture.save(path, fmt.upper())
    return path


def noise(directory: Path, size: int, name: str = "noise.bin") -> Path:
    path = directory / name
    path.write_bytes(random.Random(size).randbytes(size))
    return path


def audio(directory: Path, fmt: str, seconds: float, rate: int = 22_050) -> Path:
    """A 440 Hz mono tone of exactly `seconds` of samples."""
    container_format, codec = AUDIO_CODECS[fmt]
    path = directory / f"tone.{fmt}"
    with av.open(str(path), "w", format=container_format) as container:
        stream: Any = container.add_stream(codec, rate=rate)
        stream.layout = "mono"
        stream.bit_rate = 64_000
        total = int(seconds * rate)
        for start in range(0, total, rate):
            count = min(rate, total - start)
            tone = (
                int(9000 * math.sin(2 * math.pi * 440 * i / rate))
                for i in range(start, start + count)
            )
            frame = av.AudioFrame(format="s16", layout="mono", samples=count)
            frame.planes[0].update(struct.pack(f"<{count}h", *tone))
            frame.rate = rate
            frame.pts = start
            frame.time_base = Fraction(1, rate)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def video(
    directory: Path, fmt: str, seconds: float = 1.0, width: int = 160, height: int = 120,
    fps: int = 10,
) -> Path:  # fmt: skip
    """H.264 frames of a moving bar, `seconds` long."""
    path = directory / f"clip.{fmt}"
    with av.open(str(path), "w", format=VIDEO_CONTAINERS[fmt]) as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for index in range(int(seconds * fps)):
            picture = Image.new("RGB", (width, height), (40, 40, 40))
            left = (index * 7) % width
            ImageDraw.Draw(picture).rectangle((left, 0, left + 8, height), fill=(250, 200, 0))
            frame = av.VideoFrame.from_image(picture)  # type: ignore[no-untyped-call]
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path
