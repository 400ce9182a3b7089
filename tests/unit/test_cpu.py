"""The background CPU class: which CPUs bulk work gets, and what a process looks like in it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from parley.cpu import AUTOGROUP, BACKGROUND_SESSION_NICE, bulk_cpus, session_nice


def test_bulk_cpus__last_is_the_highest_cpu_and_only_when_there_are_several() -> None:
    assert bulk_cpus("last", {0, 1, 2, 3}) == {3}
    assert bulk_cpus(" LAST ", {0, 1}) == {1}
    assert bulk_cpus("last", {5}) is None


def test_bulk_cpus__a_list_names_cpus_and_all_or_empty_confines_nothing() -> None:
    assert bulk_cpus("1,3", {0, 1, 2, 3}) == {1, 3}
    assert bulk_cpus("all", {0, 1}) is None
    assert bulk_cpus("", {0, 1}) is None


def test_bulk_cpus__a_cpu_that_is_not_available_is_refused() -> None:
    with pytest.raises(ValueError, match=r"\[7\]"):
        bulk_cpus("0,7", {0, 1})


def test_run_in_background__moves_every_thread_and_later_ones() -> None:
    probe = """
import os, threading
from parley.cpu import run_in_background
early = threading.Thread(target=threading.Event().wait, daemon=True)
early.start()
run_in_background(7, True, "last")
late = threading.Thread(target=threading.Event().wait, daemon=True)
late.start()
for tid in sorted(int(t) for t in os.listdir("/proc/self/task")):
    stat = open(f"/proc/self/task/{tid}/stat").read().rsplit(")", 1)[1].split()
    print(stat[16], os.sched_getscheduler(tid), sorted(os.sched_getaffinity(tid)))
"""
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    cpus = os.sched_getaffinity(0)
    last = sorted({max(cpus)} if len(cpus) > 1 else cpus)
    lines = out.stdout.splitlines()
    assert len(lines) == 3  # main, early, late
    assert set(lines) == {f"7 {os.SCHED_IDLE} {last}"}


SESSION_PROBE = """
import os, sys
from parley.cpu import run_in_background, session_nice
reniced = run_in_background(7, sys.argv[1] == "idle", "all")
print(reniced, session_nice())
"""


@pytest.mark.parametrize(("idle", "expected_nice"), [(True, BACKGROUND_SESSION_NICE), (False, 7)])
def test_run_in_background__a_session_leader_renices_its_autogroup(
    idle: bool, expected_nice: int
) -> None:
    """Nice and SCHED_IDLE only rank threads within an autogroup: the session's share must drop."""
    mode = "idle" if idle else "normal"
    out = subprocess.run(
        [sys.executable, "-c", SESSION_PROBE, mode],
        capture_output=True, text=True, check=True, start_new_session=True,
    )  # fmt: skip
    if AUTOGROUP.exists():
        assert out.stdout.split() == ["True", str(expected_nice)]
    else:  # a kernel without autogroups: nothing to renice
        assert out.stdout.split() == ["False", "None"]


def test_run_in_background__leaves_a_shared_session_alone() -> None:
    """A process that does not lead its session must not slow the others in it (this test run)."""
    before = session_nice()
    out = subprocess.run(
        [sys.executable, "-c", SESSION_PROBE, "idle"], capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["False", str(before)]
    assert session_nice() == before
