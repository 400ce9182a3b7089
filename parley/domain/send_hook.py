"""The pre-send hook's rules: which sends the operator's hook sees, and what its verdict (allow,
reject, replace) or its failure (the fail-open or fail-closed policy) makes of a send."""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import Enum

from parley.domain.content import check_content
from parley.domain.conversations import ConversationType
from parley.domain.errors import Reason, Rejected
from parley.domain.events import Content, Event, MessageSent, MessageType, type_of
from parley.domain.limits import Limits
from parley.domain.media_objects import object_ids_of
from parley.domain.message_ids import fingerprint_of_event

# The operator's reason text goes to the sender in the status message: bounded.
REASON_MAX_CHARS = 256
DEFAULT_REASON = "the message was refused by the operator's pre-send hook"


class SendHookPolicy(Enum):
    """What a send becomes when the hook gives no usable verdict in time."""

    FAIL_OPEN = "fail-open"  # stored as if the hook had allowed it
    FAIL_CLOSED = "fail-closed"  # rejected with SEND_HOOK_UNAVAILABLE (retryable)


@dataclass(frozen=True)
class Allow:
    pass


@dataclass(frozen=True)
class Reject:
    reason: str = ""


@dataclass(frozen=True)
class Replace:
    content: Content


Verdict = Allow | Reject | Replace


class UnusableVerdict(ValueError):
    """A replacement the send cannot carry (another message type, media the send did not
    name): handled like a failed call, by the policy."""


@dataclass(frozen=True)
class SendHookRule:
    """Which sends the hook sees: new messages of these conversation and message types."""

    conversation_types: frozenset[ConversationType]
    message_types: frozenset[MessageType]

    def sees(self, event: Event) -> bool:
        payload = event.payload
        return (
            isinstance(payload, MessageSent)
            and event.conversation_type in self.conversation_types
            and payload.type in self.message_types
        )


def apply_verdict(event: Event, verdict: Verdict, limits: Limits) -> Event:
    """The event to append after the hook's verdict on it; Rejected with SEND_HOOK_REJECTED
    and the hook's reason, or with a limit's own reason when the replacement exceeds it.

    A replaced event keeps the send's fingerprint from before (MessageSent.original_fingerprint),
    so a retry of the send is recognised as the same send (SendDecider.check_same_send)."""
    if isinstance(verdict, Allow):
        return event
    if isinstance(verdict, Reject):
        reason = verdict.reason.strip()[:REASON_MAX_CHARS] or DEFAULT_REASON
        raise Rejected(Reason.SEND_HOOK_REJECTED, reason)
    payload = event.payload
    if not isinstance(payload, MessageSent):
        raise TypeError("the send hook sees MessageSent events only")
    check_replacement(payload.content, verdict.content)
    # The replacement must fit its type's limits like any content (as after an interceptor).
    check_content(verdict.content, limits)
    if verdict.content == payload.content:
        return event
    replaced = replace(
        payload, content=verdict.content, original_fingerprint=fingerprint_of_event(event)
    )
    return replace(event, payload=replaced)


def check_replacement(original: Content, replacement: Content) -> None:
    """A replacement keeps the message type (its topic, limits and rate rules were decided on
    it) and names no uploaded object the sender's message did not (the sender's access to
    each was checked; the hook's to none)."""
    if type_of(replacement) is not type_of(original):
        raise UnusableVerdict(
            f"the replacement is {type_of(replacement).name}, the message {type_of(original).name}"
        )
    added = set(object_ids_of(replacement)) - set(object_ids_of(original))
    if added:
        raise UnusableVerdict(f"the replacement names media the message did not: {sorted(added)}")


def on_failure(event: Event, policy: SendHookPolicy, timed_out: bool) -> Event:
    """The event to append when the hook gave no usable verdict: the send unchanged
    (fail-open), or Rejected with SEND_HOOK_UNAVAILABLE (fail-closed; nothing is written, so
    a retry with the same client message id asks the hook again)."""
    if policy is SendHookPolicy.FAIL_OPEN:
        return event
    what = "did not answer in time" if timed_out else "failed"
    raise Rejected(Reason.SEND_HOOK_UNAVAILABLE, f"the pre-send hook {what}; retry the send")
