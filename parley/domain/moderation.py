"""Content moderation on the send path: the sensitive-word filter and custom interceptors."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Literal, Protocol

from parley.domain.errors import Reason, Rejected
from parley.domain.events import (
    BarrageContent,
    Content,
    CustomContent,
    Event,
    MessageSent,
    TextContent,
)
from parley.ports import WordMatcher


class Interceptor(Protocol):
    """A pure step on an outgoing send: returns the event (possibly changed) or raises Rejected,
    typically with INTERCEPTOR_REJECTED. It must not change the event's identity (ids, key,
    actor, message type)."""

    def __call__(self, event: Event) -> Event: ...


def _lower_keeping_length(text: str) -> str:
    # str.lower() can lengthen some characters ("İ"), which would shift every later span.
    return "".join(low if len(low := char.lower()) == 1 else char for char in text)


class SubstringWordMatcher:
    """The standard-library WordMatcher: case-insensitive substring search, word by word.

    Fine for tests and short lists; production uses the Aho-Corasick adapter.
    """

    def __init__(self, words: Iterable[str]) -> None:
        self._words = sorted({_lower_keeping_length(word) for word in words if word})

    def find(self, text: str) -> list[tuple[int, int]]:
        haystack = _lower_keeping_length(text)
        spans: list[tuple[int, int]] = []
        for word in self._words:
            start = haystack.find(word)
            while start >= 0:
                spans.append((start, start + len(word)))
                start = haystack.find(word, start + 1)
        return sorted(spans)


def searchable_text(content: Content) -> str | None:
    """The text moderation reads: command bytes and custom data are opaque to the server."""
    if isinstance(content, (TextContent, BarrageContent)):
        return content.text
    if isinstance(content, CustomContent):
        return content.searchable_content
    return None


def _with_searchable_text(content: Content, text: str) -> Content:
    if isinstance(content, (TextContent, BarrageContent)):
        return replace(content, text=text)
    if isinstance(content, CustomContent):
        return replace(content, searchable_content=text)
    return content


def mask_spans(text: str, spans: Sequence[tuple[int, int]], mask_char: str) -> str:
    chars = list(text)
    for start, end in spans:
        chars[start:end] = mask_char * (end - start)
    return "".join(chars)


class SensitiveWordFilter:
    """Rejects (SENSITIVE_WORD) or masks sends whose searchable text contains a listed word."""

    def __init__(
        self, matcher: WordMatcher, mode: Literal["reject", "mask"], mask_char: str = "*"
    ) -> None:
        if len(mask_char) != 1:
            raise ValueError("mask_char must be one character")
        self._matcher = matcher
        self._mode = mode
        self._mask_char = mask_char

    def filter(self, message: MessageSent) -> MessageSent:
        text = searchable_text(message.content)
        spans = self._matcher.find(text) if text else []
        if not spans or text is None:
            return message
        if self._mode == "reject":
            raise Rejected(Reason.SENSITIVE_WORD, "the message contains a blocked word")
        masked = mask_spans(text, spans, self._mask_char)
        return replace(message, content=_with_searchable_text(message.content, masked), masked=True)

    def __call__(self, event: Event) -> Event:
        if not isinstance(event.payload, MessageSent):
            return event
        filtered = self.filter(event.payload)
        return event if filtered is event.payload else replace(event, payload=filtered)


def _identity(event: Event) -> tuple[object, ...]:
    payload = event.payload
    kind = payload.type if isinstance(payload, MessageSent) else type(payload)
    message_id = payload.message_id if isinstance(payload, MessageSent) else ""
    return (event.event_id, event.conversation_key, event.actor, kind, message_id)


class InterceptorChain:
    """Runs interceptors in order; each sees the previous one's result."""

    def __init__(self, interceptors: Sequence[Interceptor] = ()) -> None:
        self._interceptors = tuple(interceptors)

    def run(self, event: Event) -> Event:
        for interceptor in self._interceptors:
            result = interceptor(event)
            # The id was promised to the client and keys the partition: no step may change it.
            if _identity(result) != _identity(event):
                raise ValueError(f"interceptor {interceptor!r} changed the event's identity")
            event = result
        return event


def build_interceptor_chain(
    word_filter: SensitiveWordFilter | None = None, interceptors: Sequence[Interceptor] = ()
) -> InterceptorChain:
    """The sensitive-word filter first, so custom interceptors see the masked text."""
    steps: list[Interceptor] = [word_filter] if word_filter is not None else []
    return InterceptorChain([*steps, *interceptors])
