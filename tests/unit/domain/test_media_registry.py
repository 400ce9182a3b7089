"""The media registry's time window: what it keeps in memory, measured against the newest server
time folded, and how it merges with what the media archive holds."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from parley.domain.checkpoints import canonical
from parley.domain.conversations import ConversationType
from parley.domain.events import (
    Event,
    ImageContent,
    MediaRef,
    MediaUploaded,
    MessageRecalled,
    MessageSent,
    Payload,
    Picture,
    TextContent,
)
from parley.domain.media_objects import ArchivedMedia, Attachment, StoredMedia
from parley.domain.media_registry import CLOCK_SKEW_MS, MediaRegistry

WINDOW_MS = 60_000
T0 = 1_700_000_000_000


def image(object_id: str) -> ImageContent:
    ref = MediaRef(object_id=object_id, file_name="a.png", size_bytes=9, mime_type="image/png")
    return ImageContent(ref, 4, 3, Picture(2, 1, 5), Picture(4, 3, 9))


def event(key: str, actor: str, at_ms: int, payload: Payload) -> Event:
    return Event(f"e-{key}-{at_ms}", key, ConversationType.PEER, actor, at_ms, payload)


def upload(object_id: str, at_ms: int, owner: str = "alice") -> Event:
    return event(f"u:{owner}", owner, at_ms, MediaUploaded(image(object_id)))


def sent(message_id: str, object_id: str, at_ms: int, key: str = "p:alice:bob") -> Event:
    payload = MessageSent(message_id, image(object_id), recipient_id="bob")
    return event(key, "alice", at_ms, payload)


def recalled(message_id: str, at_ms: int, key: str = "p:alice:bob") -> Event:
    return event(key, "alice", at_ms, MessageRecalled(message_id, "alice"))


def tick(at_ms: int) -> Event:
    """Any event: the window ends at the newest server time, whatever the event."""
    return event("p:carol:dave", "carol", at_ms, MessageSent(f"t{at_ms}", TextContent("hi")))


def folded(*events: Event) -> MediaRegistry:
    registry = MediaRegistry(WINDOW_MS)
    for one in events:
        registry.apply(one)
    return registry


def test_media_registry__keeps_uploads_and_media_messages_within_the_window_only() -> None:
    registry = folded(upload("o1", T0), sent("m1", "o1", T0 + 1_000), tick(T0 + WINDOW_MS))
    assert registry.holds("o1") and registry.holds_message("m1")
    stored = registry.get("o1")
    assert stored is not None and set(stored.attachments) == {"m1"}
    # one ms past the upload's window: the upload goes, its message stays (clocks differ)
    registry.apply(tick(T0 + WINDOW_MS + 1))
    assert not registry.holds("o1") and registry.get("o1") is None
    assert registry.holds_message("m1") and registry.objects_of("m1") == ("o1",)
    registry.apply(tick(T0 + 1_000 + WINDOW_MS + CLOCK_SKEW_MS + 1))
    assert not registry.holds_message("m1") and registry.objects_of("m1") == ()
    assert registry.to_document() == {
        "newest_ms": T0 + 1_000 + WINDOW_MS + CLOCK_SKEW_MS + 1,
        "uploads": [],
        "messages": [],
        "recalls": [],
    }


def test_media_registry__memory_grows_with_the_window_not_with_the_log() -> None:
    registry = MediaRegistry(WINDOW_MS)
    for n in range(2_000):  # one media message a second for 2000 s, 33 windows
        at_ms = T0 + n * 1_000
        registry.apply(upload(f"o{n}", at_ms))
        registry.apply(sent(f"m{n}", f"o{n}", at_ms))
        registry.apply(recalled(f"m{n}", at_ms))
    document = registry.to_document()
    assert len(registry) == len(document["uploads"]) == WINDOW_MS // 1_000 + 1
    # clocks differ: a media message is kept a minute longer than its upload, a recall two
    assert len(document["messages"]) == (WINDOW_MS + CLOCK_SKEW_MS) // 1_000 + 1
    assert len(document["recalls"]) == (WINDOW_MS + 2 * CLOCK_SKEW_MS) // 1_000 + 1


def test_media_registry__an_item_arriving_behind_the_window_is_never_added() -> None:
    # The message's partition lags: the upload's stream has moved far ahead meanwhile.
    late = folded(upload("o1", T0), tick(T0 + 10 * WINDOW_MS), sent("m1", "o1", T0 + 1))
    assert not late.holds_message("m1") and late.get("o1") is None
    on_time = folded(upload("o1", T0), sent("m1", "o1", T0 + 1), tick(T0 + 10 * WINDOW_MS))
    assert canonical(late.to_document()) == canonical(on_time.to_document())


def test_media_registry__a_redelivered_send_never_unrecalls() -> None:
    registry = folded(upload("o1", T0), sent("m1", "o1", T0 + 1), recalled("m1", T0 + 2))
    registry.apply(sent("m1", "o1", T0 + 1))
    stored = registry.get("o1")
    assert stored is not None and stored.attachments["m1"].recalled


def test_media_registry__get_merges_the_archive_with_newer_messages_and_recalls() -> None:
    archived = ArchivedMedia(
        objects={
            "o1": StoredMedia(
                "o1", "alice", image("o1"), T0,
                {"m1": Attachment("m1", "g:team"), "m2": Attachment("m2", "p:alice:bob")},
            )
        },
        messages={"m1": ("o1",)},
    )  # fmt: skip
    later = T0 + 10 * WINDOW_MS
    # The projector has not archived yet: m1's recall and a new forward m3, in memory only.
    registry = folded(
        tick(later), recalled("m1", later, "g:team"), sent("m3", "o1", later, "p:bob:carol")
    )
    assert not registry.holds("o1") and registry.get("o1") is None
    stored = registry.get("o1", archived)
    assert stored is not None and (stored.owner, stored.content) == ("alice", image("o1"))
    assert stored.attachments == {
        "m1": Attachment("m1", "g:team", recalled=True),
        "m2": Attachment("m2", "p:alice:bob"),
        "m3": Attachment("m3", "p:bob:carol"),
    }
    assert registry.objects_of("m1", archived) == ("o1",)
    assert registry.objects_of("m3", archived) == ("o1",)


def test_media_registry__a_recall_in_another_conversation_recalls_nothing() -> None:
    registry = folded(upload("o1", T0), sent("m1", "o1", T0 + 1), recalled("m1", T0 + 2, "g:x"))
    stored = registry.get("o1")
    assert stored is not None and not stored.attachments["m1"].recalled


def test_media_registry__objects_in_a_conversation() -> None:
    registry = folded(
        upload("o1", T0), upload("o2", T0), sent("m1", "o1", T0, "r:gig"),
        sent("m2", "o2", T0, "r:jam"), sent("m3", "o1", T0, "r:gig"),
    )  # fmt: skip
    assert registry.objects_in("r:gig") == ["o1"]
    assert registry.object_ids() == ["o1", "o2"]


# A log of three partitions: uploads on user streams, media messages and recalls on
# conversations, server times spread over several windows.
lane_event = st.tuples(st.integers(0, 2), st.integers(0, 5), st.integers(0, 4 * WINDOW_MS))


def generated_log(steps: list[tuple[int, int, int]]) -> list[list[Event]]:
    lanes: list[list[Event]] = [[], [], []]
    sends: list[str] = []
    for n, (kind, item, gap_ms) in enumerate(steps):
        at_ms = T0 + gap_ms  # in any order: ingress clocks differ
        if kind == 0:
            lanes[0].append(upload(f"o{item}", at_ms))
        elif kind == 1:
            sends.append(f"m{n}")
            lanes[1].append(sent(f"m{n}", f"o{item}", at_ms))
        elif sends:
            lanes[1].append(recalled(sends[item % len(sends)], at_ms))
        lanes[2].append(tick(at_ms))
    return lanes


@settings(max_examples=200, deadline=None)
@given(st.lists(lane_event, max_size=40), st.integers(0, 2**32), st.integers(0, 120))
def test_media_registry__window_documents_do_not_depend_on_interleaving_or_restore(
    steps: list[tuple[int, int, int]], seed: int, cut_at: int
) -> None:
    lanes = generated_log(steps)
    in_order = [one for lane in lanes for one in lane]
    rng, pending, shuffled = random.Random(seed), [list(lane) for lane in lanes], []
    while any(pending):
        shuffled.append(rng.choice([lane for lane in pending if lane]).pop(0))
    whole = folded(*in_order)
    assert canonical(folded(*shuffled).to_document()) == canonical(whole.to_document())
    # Restored from a document of a prefix, then folded on: the same as the whole fold.
    cut = cut_at % (len(shuffled) + 1)
    restored = MediaRegistry(WINDOW_MS)
    restored.restore(folded(*shuffled[:cut]).to_document())
    for one in shuffled[cut:]:
        restored.apply(one)
    assert canonical(restored.to_document()) == canonical(whole.to_document())
