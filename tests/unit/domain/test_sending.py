"""The send pipeline: idempotency, every validation rule in order, rate limit, moderation."""

from __future__ import annotations

import dataclasses

import pytest

from parley.domain.commands import SendCommand, SendReceipt, Stamp
from parley.domain.contacts import decide_block
from parley.domain.conversations import ConversationType
from parley.domain.errors import Reason, Rejected
from parley.domain.events import (
    BarrageContent,
    CommandContent,
    Content,
    CustomContent,
    Event,
    Logged,
    MessageSent,
    Position,
    TextContent,
)
from parley.domain.message_archive import ArchivedMessage
from parley.domain.message_ids import content_digest, fingerprint_of_event, message_id_for
from parley.domain.moderation import (
    SensitiveWordFilter,
    SubstringWordMatcher,
)
from parley.domain.sending import SendDecider
from tests.unit.domain.send_world import GROUP, NOW, PEER, ROOM, command, decider, prepared, world


def reason(send: SendDecider, cmd: SendCommand, now_ms: int = NOW) -> Reason:
    with pytest.raises(Rejected) as caught:
        send.prepare(cmd, Stamp(now_ms, "ev"))
    return caught.value.reason


# --- the event ---------------------------------------------------------------------------------


def test_send_decider__peer_send_becomes_a_message_sent_event() -> None:
    event = prepared(decider(), command(ext=(("z", "1"), ("a", "2"))))
    message_id = message_id_for("alice", "c-1")
    assert (event.event_id, event.conversation_key, event.actor) == (
        message_id,
        "p:alice:bob",
        "alice",
    )
    assert (event.server_time_ms, event.client_message_id, event.request_id) == (NOW, "c-1", "req")
    assert event.payload == MessageSent(
        message_id, TextContent("hi"), recipient_id="bob", ext=(("a", "2"), ("z", "1"))
    )


def test_send_decider__group_send_has_no_recipient() -> None:
    event = prepared(decider(), command(conversation_type=GROUP, target_id="team"))
    assert isinstance(event.payload, MessageSent) and event.payload.recipient_id == ""
    assert event.conversation_key == "g:team"


# --- idempotency ------------------------------------------------------------------------------


def test_send_decider__record_answers_with_the_log_position() -> None:
    send = decider()
    receipt = send.record(prepared(send, command()), Position(3, 41))
    assert receipt == SendReceipt(message_id_for("alice", "c-1"), 41, NOW, "p:alice:bob")


def test_send_decider__retry_returns_the_original_receipt() -> None:
    send = decider()
    original = send.record(prepared(send, command()), Position(0, 41))
    retry = send.prepare(command(), Stamp(NOW + 5_000, "ev-2"))
    assert retry == dataclasses.replace(original, duplicate=True)


def test_send_decider__retry_is_recognised_from_the_log_after_a_restart() -> None:
    first = decider()
    event = prepared(first, command())
    restarted_model = world()
    restarted_model.apply(Logged(event, Position(0, 41)))
    retry = decider(restarted_model).prepare(command(), Stamp(NOW, "ev-2"))
    assert isinstance(retry, SendReceipt) and retry.duplicate and retry.order_key == 41


def test_send_decider__reusing_a_client_message_id_for_other_content_conflicts() -> None:
    send = decider()
    send.record(prepared(send, command()), Position(0, 1))
    assert reason(send, command(TextContent("other"))) is Reason.CLIENT_MESSAGE_ID_CONFLICT
    assert reason(send, command(target_id="carol")) is Reason.CLIENT_MESSAGE_ID_CONFLICT


def test_send_decider__second_append_of_the_same_send_keeps_the_first_receipt() -> None:
    send = decider()
    event = prepared(send, command())
    # Two racing retries both reached the log: the first one appended is the message.
    first = send.record(event, Position(0, 1))
    second = send.record(event, Position(0, 2))
    assert second == dataclasses.replace(first, duplicate=True)
    assert send.record(event, Position(0, 1)) == first


def test_send_decider__retry_of_a_masked_send_is_a_duplicate_even_after_a_restart() -> None:
    word_filter = SensitiveWordFilter(SubstringWordMatcher(["bad"]), "mask")
    send = decider(word_filter=word_filter)
    event = prepared(send, command(TextContent("bad day")))
    assert isinstance(event.payload, MessageSent) and event.payload.masked
    receipt = send.record(event, Position(0, 7))
    assert receipt.masked
    assert send.prepare(command(TextContent("bad day")), Stamp(NOW, "e2")) == dataclasses.replace(
        receipt, duplicate=True
    )
    restarted = world()
    restarted.apply(Logged(event, Position(0, 7)))
    retry = decider(restarted, word_filter=word_filter).prepare(
        command(TextContent("bad day")), Stamp(NOW, "e3")
    )
    assert isinstance(retry, SendReceipt) and retry.duplicate
    assert reason(send, command(TextContent("bad night"))) is Reason.CLIENT_MESSAGE_ID_CONFLICT


def archived_as(event: Event, offset: int) -> dict[str, ArchivedMessage]:
    """The message archive's row of a logged send, as the caller reads it back."""
    assert isinstance(event.payload, MessageSent)
    p = event.payload
    row = ArchivedMessage(
        p.message_id, event.conversation_key, 1, event.actor, event.server_time_ms, offset,
        p.masked, False, content_digest(p.content), fingerprint_of_event(event),
    )  # fmt: skip
    return {p.message_id: row}


def test_send_decider__a_retry_after_the_ledger_window_is_answered_from_the_archive() -> None:
    word_filter = SensitiveWordFilter(SubstringWordMatcher(["bad"]), "mask")
    event = prepared(decider(word_filter=word_filter), command(TextContent("bad day")))
    found = archived_as(event, 41)
    later = decider(word_filter=word_filter)  # its ledger never saw the send: long forgotten
    retry = later.prepare(command(TextContent("bad day")), Stamp(NOW, "e2"),
                          archived_messages=found)  # fmt: skip
    assert retry == SendReceipt(
        message_id_for("alice", "c-1"), 41, NOW, "p:alice:bob", duplicate=True, masked=True
    )
    for other in (command(TextContent("good day")), command(target_id="carol")):
        with pytest.raises(Rejected) as caught:
            later.prepare(other, Stamp(NOW, "e3"), archived_messages=found)
        assert caught.value.reason is Reason.CLIENT_MESSAGE_ID_CONFLICT
    # Without what the archive holds, the same retry would be a second message.
    assert isinstance(later.prepare(command(TextContent("bad day")), Stamp(NOW, "e4")), Event)


def test_send_decider__retries_consume_no_rate_tokens() -> None:
    send = decider()
    send.record(prepared(send, command()), Position(0, 1))
    for _ in range(20):
        assert isinstance(send.prepare(command(), Stamp(NOW, "e")), SendReceipt)


# --- validation, in order -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "cmd",
    [
        dataclasses.replace(command(), sender="bad sender"),
        command(cmid=""),
        command(cmid="x" * 65),
        command(target_id="no spaces"),
    ],
)
def test_send_decider__malformed_ids_are_bad_parameters(cmd: SendCommand) -> None:
    assert reason(decider(), cmd) is Reason.BAD_PARAMETER


def test_send_decider__send_to_self() -> None:
    assert reason(decider(), command(target_id="alice")) is Reason.SEND_TO_SELF


@pytest.mark.parametrize(("kind", "target"), [(PEER, "bob"), (GROUP, "team")])
def test_send_decider__barrage_outside_rooms_is_not_allowed(
    kind: ConversationType, target: str
) -> None:
    cmd = command(BarrageContent("wow"), kind, target)
    assert reason(decider(), cmd) is Reason.TYPE_NOT_ALLOWED


@pytest.mark.parametrize(("kind", "target"), [(PEER, "bob"), (GROUP, "team"), (ROOM, "lobby")])
def test_send_decider__command_is_allowed_everywhere(kind: ConversationType, target: str) -> None:
    prepared(decider(), command(CommandContent(b"typing"), kind, target))


def test_send_decider__barrage_in_a_room() -> None:
    prepared(decider(), command(BarrageContent("wow"), ROOM, "lobby"))


@pytest.mark.parametrize(
    ("at_limit", "one_over", "kind", "target"),
    [
        (TextContent("é" * 16384), TextContent("é" * 16384 + "a"), PEER, "bob"),
        (CommandContent(b"x" * 5120), CommandContent(b"x" * 5121), PEER, "bob"),
        (BarrageContent("€" * 1706 + "ab"), BarrageContent("€" * 1707), ROOM, "lobby"),
        (
            CustomContent(1, "d" * 16384, "ü" * 8192),
            CustomContent(1, "d" * 16384, "ü" * 8192 + "x"),
            GROUP,
            "team",
        ),
    ],
)
def test_send_decider__sizes_are_utf8_bytes_at_the_limit_and_one_over(
    at_limit: Content, one_over: Content, kind: ConversationType, target: str
) -> None:
    prepared(decider(), command(at_limit, kind, target))
    assert reason(decider(), command(one_over, kind, target)) is Reason.MESSAGE_TOO_LARGE


def test_send_decider__empty_text_is_a_bad_parameter() -> None:
    assert reason(decider(), command(TextContent(""))) is Reason.BAD_PARAMETER


def group_mentions(count: int) -> SendCommand:
    users = tuple(f"user{index}" for index in range(count))
    return command(conversation_type=GROUP, target_id="team", mentioned_user_ids=users)


def test_send_decider__fifty_mentions_are_fine_fifty_one_are_too_many() -> None:
    prepared(decider(), group_mentions(50))
    assert reason(decider(), group_mentions(51)) is Reason.TOO_MANY_MENTIONS


def test_send_decider__duplicate_mentions_count_once_and_are_dropped() -> None:
    cmd = dataclasses.replace(group_mentions(50), mentioned_user_ids=("bob",) * 60)
    event = prepared(decider(), cmd)
    assert isinstance(event.payload, MessageSent)
    assert event.payload.mentioned_user_ids == ("bob",)


def test_send_decider__mentions_need_valid_ids() -> None:
    cmd = dataclasses.replace(group_mentions(1), mentioned_user_ids=("not valid",))
    assert reason(decider(), cmd) is Reason.BAD_PARAMETER


@pytest.mark.parametrize(
    "cmd",
    [
        command(mentioned_user_ids=("bob",)),
        command(conversation_type=ROOM, target_id="lobby", mention_all=True),
    ],
)
def test_send_decider__mentions_outside_groups_are_bad_parameters(cmd: SendCommand) -> None:
    assert reason(decider(), cmd) is Reason.BAD_PARAMETER


def test_send_decider__ext_entry_limit() -> None:
    ext = tuple((f"k{index}", "v") for index in range(33))
    prepared(decider(), command(ext=ext[:32]))
    assert reason(decider(), command(ext=ext)) is Reason.BAD_PARAMETER


def test_send_decider__ext_byte_limit() -> None:
    # BAD_PARAMETER, as docs/reason-codes.md and ingress.proto say (MESSAGE_TOO_LARGE is the
    # content's own limit); the security suite found MESSAGE_TOO_LARGE answered.
    prepared(decider(), command(ext=(("k", "é" * 2047 + "a"),)))  # 1 + 4094 + 1 bytes
    assert reason(decider(), command(ext=(("k", "é" * 2048),))) is Reason.BAD_PARAMETER


def test_send_decider__ext_keys_unique_and_non_empty() -> None:
    assert reason(decider(), command(ext=(("k", "1"), ("k", "2")))) is Reason.BAD_PARAMETER
    assert reason(decider(), command(ext=(("", "1"),))) is Reason.BAD_PARAMETER


def test_send_decider__reply_to_must_be_a_message_id() -> None:
    prepared(decider(), command(reply_to_message_id=message_id_for("bob", "x")))
    assert reason(decider(), command(reply_to_message_id="nope")) is Reason.BAD_PARAMETER


def test_send_decider__permissions_come_from_the_directory() -> None:
    model = world()
    model.apply_event(decide_block("bob", "alice", model, Stamp(0, "b")), 0)
    assert reason(decider(model), command()) is Reason.BLOCKED_BY_PEER
    outsider = dataclasses.replace(command(conversation_type=GROUP, target_id="team"), sender="eve")
    assert reason(decider(model), outsider) is Reason.NOT_A_MEMBER
    assert reason(decider(model), command(conversation_type=GROUP, target_id="nope")) is (
        Reason.GROUP_NOT_FOUND
    )


def test_send_decider__content_rules_come_before_permissions() -> None:
    cmd = command(TextContent("x" * 40_000), GROUP, "nope")
    assert reason(decider(), cmd) is Reason.MESSAGE_TOO_LARGE


# --- rate limit -------------------------------------------------------------------------------


def test_send_decider__ten_per_second_then_rate_limited() -> None:
    send = decider()
    for index in range(10):
        prepared(send, command(cmid=f"c{index}"))
    assert reason(send, command(cmid="c10")) is Reason.RATE_LIMITED
    prepared(send, command(cmid="c11"), now_ms=NOW + 100)


def test_send_decider__barrage_is_never_rate_limited() -> None:
    send = decider()
    for index in range(50):
        prepared(send, command(BarrageContent("wow"), ROOM, "lobby", cmid=f"c{index}"))


def test_send_decider__bypass_skips_the_rate_limit() -> None:
    send = decider()
    for index in range(50):
        prepared(send, command(cmid=f"c{index}"), bypass_rate_limit=True)


def test_send_decider__rejected_sends_consume_no_tokens() -> None:
    send = decider()
    for _ in range(20):
        assert reason(send, command(target_id="alice")) is Reason.SEND_TO_SELF
    for index in range(10):
        prepared(send, command(cmid=f"c{index}"))


# --- moderation -------------------------------------------------------------------------------


def test_send_decider__sensitive_word_rejects_in_reject_mode() -> None:
    word_filter = SensitiveWordFilter(SubstringWordMatcher(["bad"]), "reject")
    assert reason(decider(word_filter=word_filter), command(TextContent("so bad"))) is (
        Reason.SENSITIVE_WORD
    )


def test_send_decider__interceptor_rejection() -> None:
    def no_links(event: Event) -> Event:
        payload = event.payload
        if isinstance(payload, MessageSent) and "http" in str(payload.content):
            raise Rejected(Reason.INTERCEPTOR_REJECTED, "no links")
        return event

    send = decider(interceptors=[no_links])
    assert reason(send, command(TextContent("see http://x"))) is Reason.INTERCEPTOR_REJECTED
    prepared(send, command(TextContent("fine"), cmid="c2"))


def test_send_decider__interceptor_output_must_still_fit_the_limits() -> None:
    def inflate(event: Event) -> Event:
        assert isinstance(event.payload, MessageSent)
        bigger = dataclasses.replace(event.payload, content=TextContent("x" * 40_000))
        return dataclasses.replace(event, payload=bigger)

    assert reason(decider(interceptors=[inflate]), command()) is Reason.MESSAGE_TOO_LARGE
