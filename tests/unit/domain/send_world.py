"""The write model the send and recall tests start from, and the send decider over it."""

from __future__ import annotations

import dataclasses

from parley.domain.commands import SendCommand, Stamp
from parley.domain.conversations import ConversationType
from parley.domain.events import Content, Event, GroupRole, Position, TextContent
from parley.domain.groups import GroupChange, decide_create_group, decide_set_member_role
from parley.domain.limits import Limits
from parley.domain.moderation import Interceptor, SensitiveWordFilter, build_interceptor_chain
from parley.domain.rate_limit import RateLimiter
from parley.domain.rooms import decide_create_room
from parley.domain.sending import SendDecider
from parley.domain.write_model import WriteModel

NOW = 1_000_000  # milliseconds since the Unix epoch
LIMITS = Limits()
PEER, ROOM, GROUP = ConversationType.PEER, ConversationType.ROOM, ConversationType.GROUP


def world() -> WriteModel:
    """Group "team": owner, admin "ada", alice, bob; room "lobby" with alice."""
    model = WriteModel()
    setup = Stamp(0, "setup")
    by_owner = GroupChange("owner", "team", model, setup)
    model.apply_event(decide_create_group(by_owner, "T", ["ada", "alice", "bob"], LIMITS), 0)
    model.apply_event(decide_set_member_role(by_owner, "ada", GroupRole.ADMIN), 0)
    model.apply_event(decide_create_room("alice", "lobby", "L", model, LIMITS, setup), 0)
    return model


def decider(
    model: WriteModel | None = None,
    interceptors: list[Interceptor] | None = None,
    word_filter: SensitiveWordFilter | None = None,
) -> SendDecider:
    chain = build_interceptor_chain(word_filter, interceptors or [])
    return SendDecider(model or world(), LIMITS, RateLimiter(LIMITS.rate_per_second), chain)


def command(
    content: Content | None = None,
    conversation_type: ConversationType = PEER,
    target_id: str = "bob",
    cmid: str = "c-1",
    **fields: object,
) -> SendCommand:
    """Alice's send of `content` ("hi" by default); `fields` replace any other field."""
    cmd = SendCommand("alice", conversation_type, target_id, cmid, content or TextContent("hi"))
    return dataclasses.replace(cmd, **fields)  # type: ignore[arg-type]


def prepared(
    send: SendDecider, cmd: SendCommand, now_ms: int = NOW, bypass_rate_limit: bool = False
) -> Event:
    result = send.prepare(cmd, Stamp(now_ms, "ev", "req"), bypass_rate_limit=bypass_rate_limit)
    assert isinstance(result, Event)
    return result


def recorded(model: WriteModel, cmd: SendCommand, now_ms: int = NOW) -> Event:
    """`cmd` sent at `now_ms` and recorded as appended at log offset 1."""
    send = decider(model)
    event = prepared(send, cmd, now_ms)
    send.record(event, Position(0, 1))
    return event
