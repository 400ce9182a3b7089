"""Media in sends (own uploads, forwards, merged forwards) and who may download what."""

from __future__ import annotations

import pytest

from parley.domain.commands import SendCommand, SendReceipt, Stamp
from parley.domain.conversations import ConversationType
from parley.domain.errors import Reason, Rejected
from parley.domain.events import (
    CombineContent,
    Content,
    CustomContent,
    Event,
    FileContent,
    ForwardedMessage,
    ImageContent,
    MediaRef,
    MessageSent,
    MultipleContent,
    Picture,
    Position,
    TextContent,
)
from parley.domain.groups import GroupChange, decide_create_group
from parley.domain.limits import Limits
from parley.domain.media_access import Rendition, check_download
from parley.domain.media_uploads import decide_media_uploaded, object_id_from
from parley.domain.moderation import build_interceptor_chain
from parley.domain.rate_limit import RateLimiter
from parley.domain.recall import decide_recall
from parley.domain.sending import SendDecider
from parley.domain.write_model import WriteModel

LIMITS = Limits()
PEER, GROUP = ConversationType.PEER, ConversationType.GROUP
PHOTO = object_id_from(b"p" * 16)
STORED_PHOTO = ImageContent(
    MediaRef(object_id=PHOTO, file_name="cat.png", size_bytes=5000, mime_type="image/png"),
    800, 600, Picture(240, 180, 900), Picture(800, 600, 4000),
)  # fmt: skip
_offset = iter(range(1, 10_000))


class World:
    """alice uploaded PHOTO; group "team" has owner, alice and bob; carol is outside."""

    def __init__(self) -> None:
        self.model = WriteModel()
        self.decider = SendDecider(
            self.model, LIMITS, RateLimiter(1000), build_interceptor_chain(None, [])
        )
        by_owner = GroupChange("owner", "team", self.model, Stamp(0, "g"))
        self.apply(decide_create_group(by_owner, "T", ["alice", "bob"], LIMITS))
        self.apply(decide_media_uploaded("alice", STORED_PHOTO, Stamp(1, "up")))

    def apply(self, event: Event) -> None:
        self.model.apply_event(event, next(_offset))

    def send(self, sender: str, kind: ConversationType, target: str, content: Content,
             cmid: str = "c1") -> Event:  # fmt: skip
        decision = self.decider.prepare(
            SendCommand(sender, kind, target, cmid, content), Stamp(10, "s")
        )
        assert isinstance(decision, Event)
        self.decider.record(decision, Position(0, next(_offset)))
        return decision

    def sent(self, event: Event) -> MessageSent:
        assert isinstance(event.payload, MessageSent)
        return event.payload


def reason(call: object, *args: object) -> Reason:
    with pytest.raises(Rejected) as caught:
        call(*args)  # type: ignore[operator]
    return caught.value.reason


def photo_ref() -> ImageContent:
    return ImageContent(MediaRef(object_id=PHOTO))


def test_send__own_upload_gets_the_server_description() -> None:
    world = World()
    sent = world.sent(world.send("alice", PEER, "bob", photo_ref()))
    assert sent.content == STORED_PHOTO
    assert world.model.media.objects_of(sent.message_id) == (PHOTO,)


def test_send__a_retry_with_a_sparser_description_is_the_same_message() -> None:
    world = World()
    world.send("alice", PEER, "bob", photo_ref())
    retry = world.decider.prepare(
        SendCommand("alice", PEER, "bob", "c1", STORED_PHOTO), Stamp(11, "s2")
    )
    assert isinstance(retry, SendReceipt) and retry.duplicate


def test_send__someone_elses_unsent_upload_is_not_found() -> None:
    world = World()
    assert reason(world.send, "bob", PEER, "alice", photo_ref()) is Reason.MEDIA_NOT_FOUND
    unknown = ImageContent(MediaRef(object_id=object_id_from(b"u" * 16)))
    assert reason(world.send, "alice", PEER, "bob", unknown) is Reason.MEDIA_NOT_FOUND


def test_send__the_type_must_match_the_upload() -> None:
    world = World()
    as_file = FileContent(MediaRef(object_id=PHOTO))
    assert reason(world.send, "alice", PEER, "bob", as_file) is Reason.MEDIA_KIND_MISMATCH


def test_send__a_reader_may_forward_one_by_one_but_an_outsider_may_not() -> None:
    world = World()
    world.send("alice", GROUP, "team", photo_ref())
    forwarded = world.sent(world.send("bob", PEER, "carol", photo_ref(), "fwd"))
    assert forwarded.content == STORED_PHOTO
    assert reason(world.send, "dave", PEER, "carol", photo_ref(), "x") is Reason.MEDIA_NOT_FOUND


def test_send__a_composite_resolves_each_item() -> None:
    world = World()
    content = MultipleContent((TextContent("look"), photo_ref()))
    sent = world.sent(world.send("alice", GROUP, "team", content))
    assert sent.content == MultipleContent((TextContent("look"), STORED_PHOTO))


def test_combine__snapshots_are_checked_against_the_originals() -> None:
    world = World()
    original = world.sent(world.send("alice", GROUP, "team", photo_ref()))
    good = ForwardedMessage(original.message_id, "alice", photo_ref())
    combined = world.sent(world.send("bob", PEER, "carol", CombineContent("team chat", (good,))))
    assert isinstance(combined.content, CombineContent)
    (snapshot,) = combined.content.messages
    assert snapshot.content == STORED_PHOTO and snapshot.sent_at_ms == 10
    forged = ForwardedMessage(original.message_id, "bob", TextContent("x"))
    args = ("bob", PEER, "carol", CombineContent("t", (forged,)), "f2")
    assert reason(world.send, *args) is Reason.BAD_PARAMETER
    unreadable = ("carol", PEER, "bob", CombineContent("t", (good,)), "f3")
    assert reason(world.send, *unreadable) is Reason.MESSAGE_NOT_FOUND


def test_combine__a_forward_cannot_misquote_the_original() -> None:
    world = World()
    said = world.sent(world.send("carol", PEER, "alice", TextContent("I will pay you 10")))
    misquote = ForwardedMessage(said.message_id, "carol", TextContent("I will pay you 1000"))
    args = ("alice", PEER, "bob", CombineContent("t", (misquote,)), "f1")
    assert reason(world.send, *args) is Reason.BAD_PARAMETER
    other_type = ForwardedMessage(said.message_id, "carol", CustomContent(1, "I will pay you 10"))
    args = ("alice", PEER, "bob", CombineContent("t", (other_type,)), "f2")
    assert reason(world.send, *args) is Reason.BAD_PARAMETER
    quote = ForwardedMessage(said.message_id, "carol", TextContent("I will pay you 10"))
    world.sent(world.send("alice", PEER, "bob", CombineContent("t", (quote,)), "f3"))


def test_download__members_yes_outsiders_no_recalled_never() -> None:
    world = World()
    assert check_download("alice", PHOTO, "", Rendition.THUMBNAIL, world.model).object_id == PHOTO
    assert reason(check_download, "bob", PHOTO, "", Rendition.ORIGINAL, world.model) is (
        Reason.MEDIA_ACCESS_DENIED
    )
    sent = world.sent(world.send("alice", GROUP, "team", photo_ref()))
    assert check_download("bob", "", sent.message_id, Rendition.LARGE, world.model)
    assert check_download("bob", PHOTO, "", Rendition.ORIGINAL, world.model)
    for call_args in (("carol", "", sent.message_id), ("carol", PHOTO, "")):
        assert reason(check_download, *call_args, Rendition.ORIGINAL, world.model) is (
            Reason.MEDIA_ACCESS_DENIED
        )
    assert reason(check_download, "bob", "", sent.message_id, Rendition.FIRST_FRAME,
                  world.model) is Reason.RENDITION_UNAVAILABLE  # fmt: skip
    recall = decide_recall("alice", GROUP, "team", sent.message_id, world.model, LIMITS,
                           Stamp(20, "r"))  # fmt: skip
    world.apply(recall)
    for user, object_id, message_id in (("bob", "", sent.message_id), ("bob", PHOTO, ""),
                                        ("alice", PHOTO, "")):  # fmt: skip
        assert reason(check_download, user, object_id, message_id, Rendition.ORIGINAL,
                      world.model) is Reason.MEDIA_RECALLED  # fmt: skip
