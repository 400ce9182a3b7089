"""The audit commands' text output."""

from __future__ import annotations

from parley.commands.audit import describe_moment
from parley.domain.audit_state import AuditFold
from tests.unit.domain.projection_script import GROUP, scripted_history


def test_describe_moment__history_and_members_as_lines() -> None:
    fold = AuditFold(GROUP)
    for one in scripted_history().logged:
        fold.apply(one)

    lines = describe_moment(fold.moment())

    assert lines[0].startswith('GROUP "team": last seq 5')
    assert any("#5" in line and '"bye bob"' in line for line in lines)
    assert (
        "  bob: left after seq 4, read 3, unread 1, mentions 4, delivered 0, joined at 0" in lines
    )
    assert any(line.startswith("  alice: member") and "cleared through 3" in line for line in lines)
