"""The security suite's short profile (faults.security, issue 17) against a whole `parley run`:
every RPC without, with a forged, expired or `alg: none` token, the authorization matrix,
oversized fields and frames, mutated and random requests; each case as documented."""

from __future__ import annotations

import pytest

from faults.security import Targets, run
from infra.local.kafka import BOOTSTRAP
from tests.e2e.stack import Stack, descendants

pytestmark = pytest.mark.integration

GROUPS = (
    "no_token", "forged_token", "expired_token", "alg_none", "authorization", "oversized",
    "mutated", "random", "still_serving",
)  # fmt: skip


def targets_of(stack: Stack) -> Targets:
    topics = tuple(
        stack.env[f"PARLEY_TOPIC_{name}"]
        for name in ("CONVERSATION_EVENTS", "SIGNALS", "BROADCASTS")
    )
    servers = tuple(sorted(descendants(stack.process.pid)))
    return Targets(stack.ingress, stack.delivery, stack.media, stack.admin_secret, BOOTSTRAP,
                   topics, servers)  # fmt: skip


def test_security_suite__every_case_behaves_as_documented(shared_stack: Stack) -> None:
    targets = targets_of(shared_stack)
    report = run(targets, "short")
    # Every group ran, a few hundred cases in all, and none departed from the docs.
    assert set(report) == set(GROUPS), sorted(report)
    assert sum(g["tried"] for g in report.values()) >= 300, report
    wrong = {name: g["failures"] for name, g in report.items() if g["documented"] != g["tried"]}
    assert not wrong, wrong
    # No server process died (parley run would have started a new one in its place).
    assert set(targets.pids) <= descendants(shared_stack.process.pid)
