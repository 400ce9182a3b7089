"""The background CPU class: which CPUs bulk work gets, and what a process looks like in it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from parley.cpu import (
    AUTOGROUP,
    BACKGROUND_SESSION_NICE,
    autogroup_nice,
    bulk_cpus,
    cpu_cgroup,
    in_idle_cgroup,
    session_nice,
)


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


def test_autogroup_nice__a_session_without_an_autogroup_of_its_own_has_none() -> None:
    assert autogroup_nice("/autogroup-42 nice 19\n") == 19
    assert autogroup_nice("/autogroup-7 nice -3\n") == -3
    assert autogroup_nice("") is None  # init's session, and a daemon's that never called setsid


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
from parley.cpu import in_idle_cgroup, run_in_background, session_nice
placement = run_in_background(7, sys.argv[1] == "idle", "all")
print(placement.replace(" ", "_"), in_idle_cgroup(), session_nice())
"""

# Root on a host with a CPU cgroup hierarchy (the dev machine, CI) makes the idle cgroup.
CAN_MAKE_CGROUPS = os.geteuid() == 0 and cpu_cgroup("self") is not None


def probe(mode: str, start_new_session: bool = False) -> list[str]:
    argv = [sys.executable, "-c", SESSION_PROBE, mode]
    done = subprocess.run(
        argv, capture_output=True, text=True, check=True, start_new_session=start_new_session
    )
    return done.stdout.split()


def test_run_in_background__idle_goes_to_an_idle_cgroup_or_renices_its_session() -> None:
    """Between processes of different sessions, nice and SCHED_IDLE alone do not rank."""
    if CAN_MAKE_CGROUPS:
        assert probe("idle", start_new_session=True) == ["idle_cgroup", "True", "0"]
    else:
        expected = str(BACKGROUND_SESSION_NICE) if AUTOGROUP.exists() else "None"
        assert probe("idle", start_new_session=True) == ["session_reniced", "False", expected]


def test_run_in_background__not_idle_renices_its_session_to_its_nice() -> None:
    placement, in_cgroup, nice = probe("normal", start_new_session=True)
    assert in_cgroup == "False"
    if AUTOGROUP.exists():
        assert (placement, nice) == ("session_reniced", "7")
    else:
        assert (placement, nice) == ("none", "None")


def test_run_in_background__leaves_a_shared_session_alone() -> None:
    """A process that does not lead its session must not slow the others in it (this test run)."""
    before = session_nice()
    assert probe("normal") == ["none", "False", str(before)]
    assert session_nice() == before
    assert not in_idle_cgroup()  # nor does a child in the idle cgroup take its parent along
    if CAN_MAKE_CGROUPS:
        assert probe("idle") == ["idle_cgroup", "True", str(before)]
    assert not in_idle_cgroup() and session_nice() == before
