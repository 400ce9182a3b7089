"""The sensitive-word filter and the interceptor chain."""

from __future__ import annotations

import dataclasses

import pytest

from parley.domain.conversations import ConversationType
from parley.domain.errors import Reason, Rejected
from parley.domain.events import (
    BarrageContent,
    CommandContent,
    Content,
    CustomContent,
    Event,
    MessageSent,
    TextContent,
)
from parley.domain.moderation import (
    InterceptorChain,
    SensitiveWordFilter,
    SubstringWordMatcher,
    build_interceptor_chain,
)

MATCHER = SubstringWordMatcher(["bad", "Worse"])


def sent(content: Content) -> Event:
    return Event("m1", "g:team", ConversationType.GROUP, "alice", 0, MessageSent("m1", content))


def test_substring_word_matcher__finds_every_case_insensitive_occurrence() -> None:
    assert MATCHER.find("BAD, worse and bad") == [(0, 3), (5, 10), (15, 18)]
    assert MATCHER.find("fine") == []


def test_substring_word_matcher__spans_survive_characters_that_lengthen_when_lowered() -> None:
    assert MATCHER.find("İ bad") == [(2, 5)]


def test_sensitive_word_filter__mask_mode_masks_spans_and_flags_the_message() -> None:
    word_filter = SensitiveWordFilter(MATCHER, "mask")
    result = word_filter(sent(TextContent("so Bad, even WORSE")))
    assert isinstance(result.payload, MessageSent)
    assert result.payload.content == TextContent("so ***, even *****")
    assert result.payload.masked


@pytest.mark.parametrize(
    ("content", "masked"),
    [
        (BarrageContent("bad"), BarrageContent("###")),
        (CustomContent(1, "bad data", "bad title"), CustomContent(1, "bad data", "### title")),
    ],
)
def test_sensitive_word_filter__masks_barrage_and_custom_searchable_content(
    content: Content, masked: Content
) -> None:
    result = SensitiveWordFilter(MATCHER, "mask", mask_char="#")(sent(content))
    assert isinstance(result.payload, MessageSent) and result.payload.content == masked


def test_sensitive_word_filter__reject_mode() -> None:
    with pytest.raises(Rejected) as caught:
        SensitiveWordFilter(MATCHER, "reject")(sent(TextContent("bad")))
    assert caught.value.reason is Reason.SENSITIVE_WORD


def test_sensitive_word_filter__leaves_clean_text_and_command_bytes_alone() -> None:
    word_filter = SensitiveWordFilter(MATCHER, "reject")
    clean = sent(TextContent("fine"))
    assert word_filter(clean) is clean
    command = sent(CommandContent(b"bad"))
    assert word_filter(command) is command


def reject_all(event: Event) -> Event:
    raise Rejected(Reason.INTERCEPTOR_REJECTED, "no")


def shout(event: Event) -> Event:
    payload = event.payload
    assert isinstance(payload, MessageSent) and isinstance(payload.content, TextContent)
    upper = dataclasses.replace(payload, content=TextContent(payload.content.text.upper()))
    return dataclasses.replace(event, payload=upper)


def test_interceptor_chain__runs_in_order_with_the_filter_first() -> None:
    chain = build_interceptor_chain(SensitiveWordFilter(MATCHER, "mask"), [shout])
    result = chain.run(sent(TextContent("a bad day")))
    assert isinstance(result.payload, MessageSent)
    assert result.payload.content == TextContent("A *** DAY")


def test_interceptor_chain__an_interceptor_may_reject() -> None:
    with pytest.raises(Rejected) as caught:
        InterceptorChain([shout, reject_all]).run(sent(TextContent("x")))
    assert caught.value.reason is Reason.INTERCEPTOR_REJECTED


def test_interceptor_chain__may_not_change_the_event_identity() -> None:
    def rekey(event: Event) -> Event:
        return dataclasses.replace(event, conversation_key="g:other")

    with pytest.raises(ValueError):
        InterceptorChain([rekey]).run(sent(TextContent("x")))


def test_interceptor_chain__empty_chain_returns_the_event() -> None:
    event = sent(TextContent("x"))
    assert build_interceptor_chain().run(event) is event
