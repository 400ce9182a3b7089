"""`parley audit trail` and `parley audit state` on real Kafka (and the live projector)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from parley.adapters.kafka import partition_for
from parley.domain.audit_bounds import format_time
from tests.integration.audit_harness import jsonl, noisy_history, past, produce, run_cli
from tests.integration.projection_harness import (  # noqa: F401 (fixture)
    ProjectionEnv,
    projection_env_fixture,
)
from tests.unit.domain.projection_script import GROUP, PEER_AB

pytestmark = pytest.mark.integration


async def test_event_log__writes_each_key_to_the_partition_audits_read(
    projection_env: ProjectionEnv,
) -> None:
    logged = await produce(projection_env, [one.event for one in noisy_history().logged])

    partitions = {p.partition for p in logged.positions}
    assert len(partitions) == 3  # the test topic's partitions are all used
    for event, position in zip(logged.events, logged.positions, strict=True):
        assert position.partition == partition_for(event.conversation_key, 3)


async def test_audit_trail__shows_a_recalled_message_then_its_recall(
    projection_env: ProjectionEnv,
) -> None:
    logged = await produce(projection_env, [one.event for one in noisy_history().logged])

    result = await run_cli(projection_env, "audit", "trail", "--conversation", PEER_AB,
                           "--format", "jsonl")  # fmt: skip

    assert result.exit_code == 0, result.output
    records = jsonl(result.stdout)
    assert [(r["partition"], r["offset"]) for r in records] == [
        (p.partition, p.offset) for _, p in logged.of(PEER_AB)
    ]
    assert all(r["event"]["conversation_key"] == PEER_AB for r in records)
    sent = next(
        i
        for i, r in enumerate(records)
        if r["event"]["payload"].get("content") == {"type": "TEXT", "text": "hi alice"}
    )
    mid = records[sent]["event"]["payload"]["message_id"]  # fmt: skip
    types = [(r["event"]["type"], r["event"]["payload"].get("message_id")) for r in records]
    recalled = types.index(("MessageRecalled", mid))
    assert sent < recalled and records[recalled]["event"]["actor"] == "bob"
    text = await run_cli(projection_env, "audit", "trail", "--conversation", PEER_AB)
    lines = text.stdout.splitlines()
    shown = next(i for i, line in enumerate(lines) if f'MessageSent {mid} TEXT "hi alice"' in line)
    assert "MessageRecalled" in lines[shown + 1] and f'"{mid}"' in lines[shown + 1]


async def test_audit_trail__offset_and_time_bounds(projection_env: ProjectionEnv) -> None:
    # 1. two parts of the history, the second logged strictly later than the first
    events = [one.event for one in noisy_history().logged]
    first = await produce(projection_env, events[: len(events) // 2])
    whole = await run_cli(projection_env, "audit", "trail", "--conversation", GROUP,
                          "--format", "jsonl")  # fmt: skip
    part_one = jsonl(whole.stdout)
    boundary = max(r["log_time_ms"] for r in part_one)
    await past(boundary)
    logged = await produce(projection_env, events[len(events) // 2 :], first)
    offsets = [p.offset for _, p in logged.of(GROUP)]
    # 2. offsets: inclusive at both ends
    bounded = await run_cli(projection_env, "audit", "trail", "--conversation", GROUP,
                            "--from", str(offsets[2]), "--to", str(offsets[5]),
                            "--format", "jsonl")  # fmt: skip
    assert [r["offset"] for r in jsonl(bounded.stdout)] == offsets[2:6]
    # 3. times: the log's timestamps split the two parts exactly
    before = await run_cli(projection_env, "audit", "trail", "--conversation", GROUP, "--to",
                           format_time(boundary), "--format", "jsonl")  # fmt: skip
    after = await run_cli(projection_env, "audit", "trail", "--conversation", GROUP, "--from",
                          format_time(boundary + 1), "--format", "jsonl")  # fmt: skip
    assert [r["offset"] for r in jsonl(before.stdout)] == [r["offset"] for r in part_one]
    assert [r["offset"] for r in jsonl(after.stdout)] == offsets[len(part_one) :]


async def state_at(env: ProjectionEnv, key: str, at: int | str) -> dict[str, Any]:
    result = await run_cli(env, "audit", "state", "--conversation", key, "--at", str(at),
                           "--format", "json")  # fmt: skip
    assert result.exit_code == 0, result.output
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def member(state: dict[str, Any], user: str) -> dict[str, Any]:
    found: dict[str, Any] = next(m for m in state["members"] if m["user_id"] == user)
    return found


async def test_audit_state__before_and_after_a_read_a_recall_and_a_member_leaving(
    projection_env: ProjectionEnv,
) -> None:
    logged = await produce(projection_env, [one.event for one in noisy_history().logged])
    # a read: dave, who joined at seq 2, reads the group at seq 5
    read = logged.offset_of(GROUP, "ConversationRead", nth=1)
    before, after = (
        await state_at(projection_env, GROUP, read - 1),
        await state_at(projection_env, GROUP, read),
    )
    assert (member(before, "dave")["unread"], member(before, "dave")["read_seq"]) == (3, 2)
    assert (member(after, "dave")["unread"], member(after, "dave")["read_seq"]) == (0, 5)
    # a recall: bob's m2 has its content, then is withheld and marked recalled
    recall = logged.offset_of(PEER_AB, "MessageRecalled")
    before, after = (
        await state_at(projection_env, PEER_AB, recall - 1),
        await state_at(projection_env, PEER_AB, recall),
    )
    assert before["history"][0]["content"] == {"type": "TEXT", "text": "hi alice"}
    assert after["history"][0]["recalled"] and after["history"][0]["content"] is None
    # a member leaving: bob stops being a member at seq 4, keeps his unread and mention
    removed = logged.offset_of(GROUP, "GroupMembersRemoved")
    before, after = (
        await state_at(projection_env, GROUP, removed - 1),
        await state_at(projection_env, GROUP, removed),
    )
    assert member(before, "bob")["is_member"] and member(before, "bob")["until_seq"] == -1
    bob = member(after, "bob")
    assert (bob["is_member"], bob["until_seq"], bob["unread"], bob["mentions"]) == (
        False, 4, 1, [4],
    )  # fmt: skip


async def test_audit_state__now_equals_the_live_read_models(
    projection_env: ProjectionEnv,
) -> None:
    await produce(projection_env, [one.event for one in noisy_history().logged])
    projection_env.start_worker()
    await projection_env.wait_applied()

    state = await state_at(projection_env, GROUP, "2999-01-01T00:00:00Z")

    ks = projection_env.keyspace
    session = projection_env.session
    history = list(session.execute(f"SELECT seq, recalled FROM {ks}.messages_by_conversation "
                                   f"WHERE conversation_key = '{GROUP}'"))  # fmt: skip
    assert [(h["seq"], h["recalled"]) for h in state["history"]] == [
        (r.seq, bool(r.recalled)) for r in history
    ]
    users = {r.user_id: r for r in session.execute(f"SELECT * FROM {ks}.conversations_by_user")
             if r.conversation_key == GROUP}  # fmt: skip
    head = session.execute(f"SELECT last_seq FROM {ks}.conversation_heads "
                           f"WHERE conversation_key = '{GROUP}'").one()  # fmt: skip
    for m in state["members"]:
        row = users[m["user_id"]]
        last = head.last_seq if row.until_seq == -1 else min(head.last_seq, row.until_seq)
        assert (m["read_seq"], m["unread"]) == (row.read_seq, max(0, last - row.read_seq))
