"""The pre-send hook's rules: which sends it sees, what each verdict and each failure makes of a
send, and that a send whose content it replaced is still recognised when retried."""

from __future__ import annotations

import dataclasses

import pytest

from parley.domain.commands import SendReceipt, Stamp
from parley.domain.errors import Reason, Rejected
from parley.domain.events import (
    CommandContent,
    Event,
    FileContent,
    ImageContent,
    Logged,
    MediaRef,
    MessageRecalled,
    MessageSent,
    MessageType,
    Position,
    TextContent,
)
from parley.domain.message_ids import fingerprint, fingerprint_of_event
from parley.domain.moderation import SensitiveWordFilter, SubstringWordMatcher
from parley.domain.send_hook import (
    DEFAULT_REASON,
    REASON_MAX_CHARS,
    Allow,
    Reject,
    Replace,
    SendHookPolicy,
    SendHookRule,
    UnusableVerdict,
    apply_verdict,
    on_failure,
)
from tests.unit.domain.send_world import (
    GROUP,
    LIMITS,
    NOW,
    PEER,
    ROOM,
    command,
    decider,
    prepared,
    world,
)


def sent(text: str = "hi") -> Event:
    return prepared(decider(), command(TextContent(text)))


def replaced(event: Event, content: TextContent) -> Event:
    return apply_verdict(event, Replace(content), LIMITS)


# --- which sends the hook sees -----------------------------------------------------------------


def test_send_hook_rule__sees_only_the_configured_conversation_and_message_types() -> None:
    rule = SendHookRule(frozenset({GROUP, PEER}), frozenset({MessageType.TEXT}))
    send = decider()
    assert rule.sees(prepared(send, command()))
    assert rule.sees(prepared(send, command(conversation_type=GROUP, target_id="team")))
    assert not rule.sees(prepared(send, command(conversation_type=ROOM, target_id="lobby")))
    assert not rule.sees(prepared(send, command(CommandContent(b"typing"), cmid="c-2")))


def test_send_hook_rule__sees_no_other_event() -> None:
    rule = SendHookRule(frozenset({PEER, GROUP, ROOM}), frozenset(MessageType))
    recall = dataclasses.replace(sent(), payload=MessageRecalled("m", "alice"))
    assert rule.sees(sent()) and not rule.sees(recall)


# --- verdicts ----------------------------------------------------------------------------------


def test_apply_verdict__allow_keeps_the_event() -> None:
    event = sent()
    assert apply_verdict(event, Allow(), LIMITS) is event


def test_apply_verdict__reject_carries_the_hook_reason() -> None:
    with pytest.raises(Rejected) as caught:
        apply_verdict(sent(), Reject("no links to competitors"), LIMITS)
    assert caught.value.reason is Reason.SEND_HOOK_REJECTED
    assert caught.value.message == "no links to competitors"


def test_apply_verdict__reject_reason_is_bounded_and_never_empty() -> None:
    with pytest.raises(Rejected) as long_reason:
        apply_verdict(sent(), Reject("x" * 1000), LIMITS)
    assert long_reason.value.message == "x" * REASON_MAX_CHARS
    with pytest.raises(Rejected) as no_reason:
        apply_verdict(sent(), Reject(""), LIMITS)
    assert no_reason.value.message == DEFAULT_REASON


def test_apply_verdict__replace_stores_the_new_content_and_keeps_the_send_fingerprint() -> None:
    event = sent("call me at 555-0100")
    before = fingerprint_of_event(event)
    after = replaced(event, TextContent("call me at [number removed]"))
    assert isinstance(after.payload, MessageSent)
    assert after.payload.content == TextContent("call me at [number removed]")
    assert after.payload.original_fingerprint == before
    assert fingerprint_of_event(after) == before
    # Everything but the content is the decided event's.
    assert (
        dataclasses.replace(
            after.payload, content=TextContent("call me at 555-0100"), original_fingerprint=""
        )
        == event.payload
    )
    assert (after.event_id, after.conversation_key, after.actor) == (
        event.event_id,
        event.conversation_key,
        event.actor,
    )


def test_apply_verdict__replace_with_the_same_content_changes_nothing() -> None:
    event = sent()
    assert replaced(event, TextContent("hi")) == event


def test_apply_verdict__replacement_over_the_limits_is_rejected_with_the_limit() -> None:
    with pytest.raises(Rejected) as too_large:
        replaced(sent(), TextContent("x" * (LIMITS.text_max_bytes + 1)))
    assert too_large.value.reason is Reason.MESSAGE_TOO_LARGE
    with pytest.raises(Rejected) as empty:
        replaced(sent(), TextContent(""))
    assert empty.value.reason is Reason.BAD_PARAMETER


def test_apply_verdict__replacement_of_another_type_is_unusable() -> None:
    with pytest.raises(UnusableVerdict):
        apply_verdict(sent(), Replace(FileContent(MediaRef(url="https://x.test/f"))), LIMITS)


def test_apply_verdict__replacement_naming_other_media_is_unusable() -> None:
    image = ImageContent(MediaRef(url="https://x.test/a.png"))
    event = prepared(decider(), command(image))
    other = ImageContent(MediaRef(object_id="o_someone_elses_upload"))
    with pytest.raises(UnusableVerdict):
        apply_verdict(event, Replace(other), LIMITS)


# --- failures ----------------------------------------------------------------------------------


def test_on_failure__fail_open_keeps_the_send() -> None:
    event = sent()
    assert on_failure(event, SendHookPolicy.FAIL_OPEN, timed_out=True) is event
    assert on_failure(event, SendHookPolicy.FAIL_OPEN, timed_out=False) is event


@pytest.mark.parametrize("timed_out", [True, False])
def test_on_failure__fail_closed_rejects_as_unavailable(timed_out: bool) -> None:
    with pytest.raises(Rejected) as caught:
        on_failure(sent(), SendHookPolicy.FAIL_CLOSED, timed_out=timed_out)
    assert caught.value.reason is Reason.SEND_HOOK_UNAVAILABLE
    assert caught.value.info.status == "UNAVAILABLE"


# --- retries of a replaced send ----------------------------------------------------------------


def test_send_decider__retry_of_a_replaced_send_is_the_same_send_from_the_ledger() -> None:
    send = decider()
    event = replaced(prepared(send, command(TextContent("secret"))), TextContent("[redacted]"))
    original = send.record(event, Position(0, 7))
    retry = send.prepare(command(TextContent("secret")), Stamp(NOW + 1000, "ev-2"))
    assert retry == dataclasses.replace(original, duplicate=True)


def test_send_decider__retry_of_a_replaced_send_is_the_same_send_after_a_restart() -> None:
    # Another process (or this one restarted) knows the send only from the log.
    event = replaced(prepared(decider(), command(TextContent("secret"))), TextContent("[x]"))
    model = world()
    model.apply(Logged(event, Position(0, 7)))
    retry = decider(model).prepare(command(TextContent("secret")), Stamp(NOW, "ev-2"))
    assert isinstance(retry, SendReceipt) and retry.duplicate and retry.order_key == 7


def test_send_decider__retry_of_a_masked_then_replaced_send_is_the_same_send() -> None:
    masking = SensitiveWordFilter(SubstringWordMatcher(["darn"]), "mask")
    send = decider(word_filter=masking)
    decided = prepared(send, command(TextContent("darn it")))
    send.record(replaced(decided, TextContent("oh well")), Position(0, 3))
    retry = send.prepare(command(TextContent("darn it")), Stamp(NOW, "ev-2"))
    assert isinstance(retry, SendReceipt) and retry.duplicate


def test_send_decider__reuse_of_a_replaced_sends_id_for_other_content_still_conflicts() -> None:
    send = decider()
    event = replaced(prepared(send, command(TextContent("secret"))), TextContent("[redacted]"))
    send.record(event, Position(0, 7))
    for other in ("other", "[redacted]"):
        with pytest.raises(Rejected) as caught:
            send.prepare(command(TextContent(other)), Stamp(NOW, "ev-2"))
        assert caught.value.reason is Reason.CLIENT_MESSAGE_ID_CONFLICT


def test_fingerprint__of_a_replaced_event_is_the_requests() -> None:
    cmd = command(TextContent("secret"))
    event = replaced(prepared(decider(), cmd), TextContent("[redacted]"))
    assert fingerprint_of_event(event) == fingerprint(cmd)
