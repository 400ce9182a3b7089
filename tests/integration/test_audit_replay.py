"""`parley replay --into` and `parley audit diff` on real Kafka and Cassandra."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.integration.audit_harness import noisy_history, produce, run_cli
from tests.integration.projection_harness import (  # noqa: F401 (fixture)
    ProjectionEnv,
    projection_env_fixture,
    table_checksums,
)
from tests.unit.domain.projection_script import GROUP, PEER_AB

pytestmark = pytest.mark.integration


async def test_replay__rebuilds_the_live_read_models_and_diff_finds_a_row_changed_by_hand(
    projection_env: ProjectionEnv, cassandra_session: Any, unique_name: Callable[[str], str]
) -> None:
    # 1. the live projector (Faust) folds the log
    logged = await produce(projection_env, [one.event for one in noisy_history().logged])
    projection_env.start_worker()
    await projection_env.wait_applied()
    live, fresh = projection_env.keyspace, unique_name("replay")
    try:
        # 2. a replay into a new keyspace, with its progress bar
        replayed = await run_cli(projection_env, "replay", "--into", fresh, "--progress")
        assert replayed.exit_code == 0, replayed.output
        assert f"replayed {len(logged.events):,} events into {fresh}" in replayed.stdout
        assert "100%" in replayed.stderr and "events/s" in replayed.stderr
        assert table_checksums(cassandra_session, fresh) == table_checksums(cassandra_session, live)
        # 3. a clean replay of the live keyspace: no difference
        clean = await run_cli(projection_env, "audit", "diff", live, fresh)
        assert clean.exit_code == 0, clean.output
        assert "0 rows differ" in clean.output
        # 4. one history row changed by hand, one mention deleted: both named with offsets
        sent_3 = logged.offset_of(PEER_AB, "MessageSent", nth=2)  # seq 3
        cassandra_session.execute(
            f"UPDATE {fresh}.messages_by_conversation SET body = 0x00 "
            f"WHERE conversation_key = '{PEER_AB}' AND seq = 3"
        )
        mention_all = logged.offset_of(GROUP, "MessageSent", nth=3)  # carol's @all, seq 4
        cassandra_session.execute(
            f"DELETE FROM {fresh}.mention_all_by_conversation "
            f"WHERE conversation_key = '{GROUP}' AND seq = 4"
        )
        changed = await run_cli(projection_env, "audit", "diff", live, fresh)
        assert changed.exit_code == 1, changed.output
        lines = changed.output.splitlines()
        history = next(line for line in lines if line.startswith("messages_by_conversation"))
        assert f'conversation_key="{PEER_AB}" seq=3: changed' in history
        assert f"written at offset A {sent_3}, B {sent_3}" in history
        partition = logged.of(PEER_AB)[0][1].partition
        assert f"(partition {partition}, the log of {PEER_AB})" in history
        assert "    body: A " in lines[lines.index(history) + 1]
        gone = next(line for line in lines if line.startswith("mention_all_by_conversation"))
        assert f"seq=4: only in A; written at offset A {mention_all}" in gone
        assert "2 rows differ" in changed.output
        assert "column projection_positions.updated_at" in changed.output
    finally:
        cassandra_session.execute(f"DROP KEYSPACE IF EXISTS {fresh}")


async def test_replay__refuses_the_live_keyspace(projection_env: ProjectionEnv) -> None:
    result = await run_cli(projection_env, "replay", "--into", projection_env.keyspace)

    assert result.exit_code == 2 and "live keyspace" in result.output
