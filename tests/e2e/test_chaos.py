"""The fault suite's short profile (issue 17) on the single-node engines: under SDK load the
projector is killed mid-batch five times, a delivery node is killed with its sessions moving to
the other, and one send goes through both ingress workers at once; the history checker must
find nothing lost, doubled, out of seq or different from a replay."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from faults.suite import PROFILES, run_suite
from parley.config import Settings


def test_chaos__short_profile_loses_and_doubles_nothing(engines: Any) -> None:
    # Run the short profile against fresh topics and a fresh keyspace.
    report = asyncio.run(run_suite(Settings(), PROFILES["short"], on_cluster=False))
    faults = report["faults"]
    assert set(faults) == set(PROFILES["short"].faults), json.dumps(report)
    # Every fault had acknowledged sends, and the checker found no broken promise.
    for name, result in faults.items():
        assert result["acked"] > 0, (name, json.dumps(report))
        for key in ("lost", "duplicated", "delivered_twice", "seq_gaps", "projection_diffs"):
            assert result[key] == 0, (name, key, json.dumps(report))
        assert 0 <= result["recovery_s"] < 30, (name, json.dumps(report))
    # Sessions of the killed delivery node served again on the other within 5 s.
    assert faults["delivery_node_kill9"]["recovery_s"] < 5, json.dumps(report)
