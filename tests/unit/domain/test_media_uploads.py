"""Upload rules: formats by content per type, size and duration limits, renditions, names."""

from __future__ import annotations

import pytest

from parley.domain.errors import Reason, Rejected
from parley.domain.events import MessageType
from parley.domain.limits import MIB, Limits
from parley.domain.media_content import is_object_id
from parley.domain.media_uploads import (
    UPLOAD_CHUNK_MAX_BYTES,
    Probed,
    check_upload,
    check_upload_chunk,
    check_upload_id,
    clean_file_name,
    fit_box,
    object_id_from,
    upload_id_from,
)

LIMITS = Limits()
IMAGE, FILE, AUDIO, VIDEO = (
    MessageType.IMAGE,
    MessageType.FILE,
    MessageType.AUDIO,
    MessageType.VIDEO,
)
PNG = Probed("image/png", "png", 640, 480)
MP3 = Probed("audio/mpeg", "mp3", duration_ms=3000, has_audio=True)
MP4 = Probed("video/mp4", "mp4", 320, 240, 2000, has_video=True, has_audio=True)


def reason_of(kind: MessageType, size: int, probed: Probed) -> Reason:
    with pytest.raises(Rejected) as caught:
        check_upload(kind, size, probed, LIMITS)
    return caught.value.reason


@pytest.mark.parametrize("fmt", ["jpeg", "png", "bmp", "tiff", "gif", "webp"])
def test_check_upload__every_image_format_up_to_ten_mib(fmt: str) -> None:
    check_upload(IMAGE, 10 * MIB, Probed(f"image/{fmt}", fmt, 10, 10), LIMITS)
    assert reason_of(IMAGE, 10 * MIB + 1, Probed("", fmt, 10, 10)) is Reason.MEDIA_TOO_LARGE


def test_check_upload__an_image_must_be_an_image_by_content() -> None:
    assert reason_of(IMAGE, 100, Probed("application/pdf")) is Reason.MEDIA_TYPE_UNSUPPORTED
    assert reason_of(IMAGE, 100, Probed("image/x-icon", "ico", 16, 16)) is (
        Reason.MEDIA_TYPE_UNSUPPORTED
    )


def test_check_upload__audio_is_mp3_or_m4a_within_six_mib_and_300_s() -> None:
    check_upload(AUDIO, 6 * MIB, MP3, LIMITS)
    check_upload(AUDIO, 1000, Probed("audio/mp4", "m4a", duration_ms=1, has_audio=True), LIMITS)
    check_upload(AUDIO, 1000, Probed("video/mp4", "mp4", duration_ms=1, has_audio=True), LIMITS)
    assert reason_of(AUDIO, 6 * MIB + 1, MP3) is Reason.MEDIA_TOO_LARGE
    long = Probed("audio/mpeg", "mp3", duration_ms=300_001, has_audio=True)
    assert reason_of(AUDIO, 1000, long) is Reason.MEDIA_DURATION_EXCEEDED
    assert reason_of(AUDIO, 1000, MP4) is Reason.MEDIA_TYPE_UNSUPPORTED  # it has a picture
    wav = Probed("audio/x-wav", "wav", duration_ms=1, has_audio=True)
    assert reason_of(AUDIO, 1000, wav) is Reason.MEDIA_TYPE_UNSUPPORTED


def test_check_upload__video_is_mp4_or_mov_within_100_mib() -> None:
    check_upload(VIDEO, 100 * MIB, MP4, LIMITS)
    check_upload(VIDEO, 100, Probed("video/quicktime", "mov", 2, 2, 1, has_video=True), LIMITS)
    assert reason_of(VIDEO, 100 * MIB + 1, MP4) is Reason.MEDIA_TOO_LARGE
    audio_only = Probed("audio/mp4", "m4a", duration_ms=1, has_audio=True)
    assert reason_of(VIDEO, 100, audio_only) is Reason.MEDIA_TYPE_UNSUPPORTED


def test_check_upload__a_file_is_anything_up_to_100_mib() -> None:
    check_upload(FILE, 100 * MIB, Probed("application/octet-stream"), LIMITS)
    assert reason_of(FILE, 100 * MIB + 1, PNG) is Reason.MEDIA_TOO_LARGE


def test_fit_box__scales_down_keeping_the_ratio_never_up() -> None:
    assert fit_box(4000, 3000, 240) == (240, 180)
    assert fit_box(300, 1200, 240) == (60, 240)
    assert fit_box(100, 50, 240) == (100, 50)
    assert fit_box(5000, 1, 240) == (240, 1)


def test_clean_file_name__keeps_the_last_segment_only() -> None:
    assert clean_file_name("../../etc/passwd") == "passwd"
    assert clean_file_name("C:\\photos\\me.png") == "me.png"
    assert clean_file_name("a\x00b\nc.txt") == "abc.txt"
    assert clean_file_name("") == "file"
    assert len(clean_file_name("x" * 1000)) == 255


def test_object_id_from__is_a_well_formed_id() -> None:
    assert is_object_id(object_id_from(bytes(range(16))))
    with pytest.raises(ValueError):
        object_id_from(b"short")


def test_check_upload_chunk__at_most_one_mib() -> None:
    assert UPLOAD_CHUNK_MAX_BYTES == MIB  # media.proto promises clients this bound
    check_upload_chunk(MIB)
    with pytest.raises(Rejected) as caught:
        check_upload_chunk(MIB + 1)
    assert caught.value.reason is Reason.BAD_PARAMETER


def test_upload_id_from__is_the_only_form_check_upload_id_accepts() -> None:
    issued = upload_id_from(bytes(range(12)))
    assert issued == "u_000102030405060708090a0b"
    check_upload_id(issued)
    with pytest.raises(Rejected) as caught:
        check_upload_id(issued + ".json")
    assert caught.value.reason is Reason.BAD_PARAMETER
    with pytest.raises(ValueError):
        upload_id_from(b"short")
