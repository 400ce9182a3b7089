"""The projector over real Kafka, Faust and Cassandra: exact read models, crash, replay."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.integration.projection_harness import (  # noqa: F401 (fixture)
    ProjectionEnv,
    projection_env_fixture,
)
from tests.unit.domain.projection_script import GROUP, PEER_AB, ROOM, Script, scripted_history

pytestmark = pytest.mark.integration


def rows(env: ProjectionEnv, cql: str, keyspace: str | None = None) -> list[Any]:
    return list(env.session.execute(cql.replace("KS.", f"{keyspace or env.keyspace}.")))


def assert_scripted_read_models(env: ProjectionEnv) -> None:
    """The expectations of `scripted_history`, read back from Cassandra."""
    peer = rows(
        env,
        "SELECT seq, recalled, body FROM KS.messages_by_conversation "
        f"WHERE conversation_key = '{PEER_AB}'",
    )
    assert [(r.seq, r.recalled, r.body is None) for r in peer] == [
        (4, False, False),
        (3, False, False),
        (2, True, True),
        (1, False, False),
    ]
    by_id = rows(env, "SELECT conversation_key, seq, recalled FROM KS.messages_by_id")
    scripted = (PEER_AB, GROUP, ROOM)
    assert sorted(tuple(r) for r in by_id if r.conversation_key in scripted) == [
        *((GROUP, seq, False) for seq in range(1, 6)),
        (PEER_AB, 1, False), (PEER_AB, 2, True), (PEER_AB, 3, False), (PEER_AB, 4, False),
        (ROOM, 1, False), (ROOM, 2, False),  # metadata only: kept when the room's history goes
    ]  # fmt: skip
    users = {
        (r.user_id, r.conversation_key): r
        for r in rows(env, "SELECT * FROM KS.conversations_by_user")
    }
    heads = {r.conversation_key: r for r in rows(env, "SELECT * FROM KS.conversation_heads")}

    def unread(user: str, key: str) -> int:
        row, last = users[(user, key)], heads[key].last_seq
        until = last if row.until_seq == -1 else min(last, row.until_seq)
        return max(0, int(until) - int(row.read_seq))

    assert (unread("bob", PEER_AB), unread("alice", PEER_AB)) == (1, 0)
    assert users[("bob", PEER_AB)].delivered_seq == 4
    group = rows(
        env, f"SELECT seq FROM KS.messages_by_conversation WHERE conversation_key = '{GROUP}'"
    )
    assert [r.seq for r in group] == [5, 4, 3, 2, 1]
    alice = users[("alice", GROUP)]
    assert (alice.cleared_through_seq, alice.hidden_through_seq) == (3, 3)
    assert unread("dave", GROUP) == 3 and unread("bob", GROUP) == 1
    assert (
        rows(env, f"SELECT * FROM KS.messages_by_conversation WHERE conversation_key = '{ROOM}'")
        == []
    )
    mention_all = rows(env, "SELECT seq FROM KS.mention_all_by_conversation")
    assert [r.seq for r in mention_all] == [4]
    readers = rows(
        env,
        "SELECT reader_id FROM KS.readers_by_message "
        f"WHERE conversation_key = '{GROUP}' AND seq = 1",
    )
    assert sorted(r.reader_id for r in readers) == ["alice", "bob"]


async def test_projector__scripted_history_yields_exactly_the_expected_read_models(
    projection_env: ProjectionEnv,
) -> None:
    script = scripted_history()
    await projection_env.produce([logged.event for logged in script.logged])
    projection_env.start_worker()
    await projection_env.wait_applied()
    assert_scripted_read_models(projection_env)


async def test_projector__killed_mid_stream_and_restarted_leaves_exact_read_models(
    projection_env: ProjectionEnv, unique_name: Callable[[str], str]
) -> None:
    # 1. a backlog big enough that the kill lands mid-way, ending with the scripted history
    script = Script()
    for n in range(3000):
        script.send(f"p:u{n % 40}:v{n % 40}", f"u{n % 40}", f"load {n}")
    scripted_history(script)
    await projection_env.produce([logged.event for logged in script.logged])
    # 2. kill -9 the worker as soon as it has applied something, but not everything
    worker = projection_env.start_worker()
    ends = projection_env.end_offsets()
    while not projection_env.applied():
        await _tick()
    projection_env.kill(worker)
    assert projection_env.applied() != {p: e - 1 for p, e in ends.items()}
    # 3. restart: the result is exact, and equal to a clean run into a fresh keyspace
    projection_env.start_worker()
    await projection_env.wait_applied()
    assert_scripted_read_models(projection_env)
    counts = rows(projection_env, "SELECT conversation_key, last_seq FROM KS.conversation_heads")
    assert {r.conversation_key: r.last_seq for r in counts}["p:u7:v7"] == 75
    # 4. and byte-identical to an uninterrupted run into a fresh keyspace
    await projection_env.assert_replay_identical(unique_name("replay"))


async def test_projector__replay_from_offset_zero_into_a_fresh_keyspace_is_byte_identical(
    projection_env: ProjectionEnv, unique_name: Callable[[str], str]
) -> None:
    # 1. live: the scripted history arrives in two parts, processed as it comes
    script = scripted_history()
    events = [logged.event for logged in script.logged]
    projection_env.start_worker()
    await projection_env.produce(events[:10])
    await projection_env.wait_applied()
    await projection_env.produce(events[10:])
    await projection_env.wait_applied()
    # 2. replay: a new consumer group from offset 0 into a fresh keyspace
    await projection_env.assert_replay_identical(unique_name("replay"))


async def _tick() -> None:
    import asyncio

    await asyncio.sleep(0.02)
