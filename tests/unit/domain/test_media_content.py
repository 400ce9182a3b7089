"""Rich content shape rules: media references, composite item counts, merged forwards."""

from __future__ import annotations

import pytest

from parley.domain.content import check_content
from parley.domain.errors import Reason, Rejected
from parley.domain.events import (
    AudioContent,
    BarrageContent,
    CombineContent,
    CommandContent,
    Content,
    CustomContent,
    FileContent,
    ForwardedMessage,
    ImageContent,
    MediaRef,
    MultipleContent,
    TextContent,
    VideoContent,
)
from parley.domain.limits import MIB, Limits
from parley.domain.media_uploads import object_id_from
from parley.domain.message_ids import message_id_for

LIMITS = Limits()


def oid(n: int) -> str:
    return object_id_from(n.to_bytes(16, "big"))


def image(n: int = 1) -> ImageContent:
    return ImageContent(MediaRef(object_id=oid(n)))


def reason_of(content: Content) -> Reason:
    with pytest.raises(Rejected) as caught:
        check_content(content, LIMITS)
    return caught.value.reason


def test_multiple__ten_images_twenty_items_are_fine() -> None:
    items: tuple[Content, ...] = (
        *(image(n) for n in range(10)),
        *(TextContent(f"t{n}") for n in range(5)),
        FileContent(MediaRef(object_id=oid(20))),
        AudioContent(MediaRef(object_id=oid(21))),
        VideoContent(MediaRef(object_id=oid(22))),
        CustomContent(1, "{}"),
        TextContent("last"),
    )
    assert len(items) == 20
    check_content(MultipleContent(items), LIMITS)


def test_multiple__eleven_images_are_rejected() -> None:
    assert reason_of(MultipleContent(tuple(image(n) for n in range(11)))) is Reason.TOO_MANY_IMAGES


def test_multiple__twenty_one_items_are_rejected() -> None:
    items = tuple(TextContent(str(n)) for n in range(21))
    assert reason_of(MultipleContent(items)) is Reason.TOO_MANY_ITEMS


@pytest.mark.parametrize(
    "twice",
    [
        FileContent(MediaRef(object_id=oid(1))),
        AudioContent(MediaRef(object_id=oid(1))),
        VideoContent(MediaRef(object_id=oid(1))),
        CustomContent(7, "x"),
    ],
)
def test_multiple__two_of_a_single_kind_are_rejected(twice: Content) -> None:
    assert reason_of(MultipleContent((twice, twice))) is Reason.DUPLICATE_ITEM_KIND


@pytest.mark.parametrize(
    "item",
    [CommandContent(b"x"), BarrageContent("x"), MultipleContent((TextContent("x"),))],
)
def test_multiple__items_of_other_types_are_rejected(item: Content) -> None:
    assert reason_of(MultipleContent((TextContent("a"), item))) is Reason.ITEM_TYPE_NOT_ALLOWED


def test_multiple__items_obey_their_own_rules() -> None:
    assert reason_of(MultipleContent((TextContent(""),))) is Reason.BAD_PARAMETER
    assert reason_of(MultipleContent(())) is Reason.BAD_PARAMETER
    big = TextContent("x" * (LIMITS.text_max_bytes + 1))
    assert reason_of(MultipleContent((big,))) is Reason.MESSAGE_TOO_LARGE


def test_media_ref__needs_exactly_one_source() -> None:
    assert reason_of(ImageContent(MediaRef())) is Reason.BAD_PARAMETER
    both = MediaRef(object_id=oid(1), url="https://cdn.example/a.png")
    assert reason_of(ImageContent(both)) is Reason.BAD_PARAMETER
    assert reason_of(ImageContent(MediaRef(object_id="o_bad"))) is Reason.BAD_PARAMETER
    assert reason_of(ImageContent(MediaRef(url="ftp://x/a.png"))) is Reason.BAD_PARAMETER
    check_content(ImageContent(MediaRef(url="https://cdn.example/a.png")), LIMITS)


def test_media_ref__external_media_keeps_the_type_limits() -> None:
    too_big = MediaRef(url="https://cdn.example/a.png", size_bytes=10 * MIB + 1)
    assert reason_of(ImageContent(too_big)) is Reason.MEDIA_TOO_LARGE
    long_audio = AudioContent(MediaRef(url="https://cdn.example/a.mp3"), duration_ms=300_001)
    assert reason_of(long_audio) is Reason.MEDIA_DURATION_EXCEEDED
    check_content(AudioContent(MediaRef(url="https://x/a.mp3"), duration_ms=300_000), LIMITS)
    video = VideoContent(MediaRef(url="https://x/a.mp4", size_bytes=100 * MIB + 1))
    assert reason_of(video) is Reason.MEDIA_TOO_LARGE


def test_combine__needs_title_messages_and_distinct_ids() -> None:
    one = ForwardedMessage(message_id_for("bob", "1"), "bob", TextContent("hi"))
    check_content(CombineContent("chat", (one,)), LIMITS)
    assert reason_of(CombineContent("", (one,))) is Reason.BAD_PARAMETER
    assert reason_of(CombineContent("chat", ())) is Reason.BAD_PARAMETER
    assert reason_of(CombineContent("chat", (one, one))) is Reason.BAD_PARAMETER
    bad_id = ForwardedMessage("m_nope", "bob", TextContent("hi"))
    assert reason_of(CombineContent("chat", (bad_id,))) is Reason.BAD_PARAMETER


def test_combine__has_no_size_limit_of_its_own() -> None:
    messages = tuple(
        ForwardedMessage(message_id_for("bob", str(n)), "bob", TextContent("x" * 30_000))
        for n in range(40)
    )
    check_content(CombineContent("long chat", messages), LIMITS)
