"""The background CPU class: which CPUs bulk work gets, and what a process looks like in it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from parley.cpu import (
    AUTOGROUP,
    BACKGROUND_CGROUP,
    BACKGROUND_SESSION_NICE,
    autogroup_nice,
    bulk_cpus,
    enter_idle_cgroup,
    find_cpu_cgroup,
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


MOUNTINFO_V1 = """\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
"""
MOUNTINFO_V2 = "29 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n"


def test_find_cpu_cgroup__the_v1_hierarchy_with_the_cpu_controller_and_the_path_in_it() -> None:
    cgroup = "4:memory:/jobs/7\n2:cpu,cpuacct:/user.slice/session-3.scope\n0::/\n"
    found = find_cpu_cgroup(MOUNTINFO_V1, cgroup, read=lambda _: "")
    assert found == (Path("/sys/fs/cgroup/cpu,cpuacct"), Path("/user.slice/session-3.scope"))


def test_find_cpu_cgroup__v2_only_where_its_controllers_include_cpu() -> None:
    cgroup = "0::/system.slice/parley.service\n"
    with_cpu = find_cpu_cgroup(MOUNTINFO_V2, cgroup, read=lambda _: "cpuset cpu io memory")
    assert with_cpu == (Path("/sys/fs/cgroup"), Path("/system.slice/parley.service"))
    assert find_cpu_cgroup(MOUNTINFO_V2, cgroup, read=lambda _: "io memory") is None
    assert find_cpu_cgroup("", cgroup) is None


def test_enter_idle_cgroup__makes_an_idle_child_of_the_own_cgroup_and_moves_the_process(
    tmp_path: Path,
) -> None:
    (tmp_path / "user.slice").mkdir()  # a cgroup file system has the process's own cgroup
    assert enter_idle_cgroup((tmp_path, Path("/user.slice")), 4242)
    group = tmp_path / "user.slice" / BACKGROUND_CGROUP
    assert (group / "cpu.idle").read_text() == "1\n"
    assert (group / "cgroup.procs").read_text() == "4242\n"


def test_enter_idle_cgroup__a_child_of_a_background_process_stays_in_its_cgroup(
    tmp_path: Path,
) -> None:
    group = tmp_path / "user.slice" / BACKGROUND_CGROUP
    group.mkdir(parents=True)
    assert enter_idle_cgroup((tmp_path, Path("/user.slice") / BACKGROUND_CGROUP), 7)
    assert (group / "cgroup.procs").read_text() == "7\n"
    assert not (group / BACKGROUND_CGROUP).exists()


def test_enter_idle_cgroup__none_where_there_is_no_hierarchy_or_it_cannot_be_written(
    tmp_path: Path,
) -> None:
    assert not enter_idle_cgroup(None, 7)
    assert not enter_idle_cgroup((tmp_path, Path("/missing/parent")), 7)


# The probes run in processes of their own and never make or enter a cgroup (cgroups=False):
# what they change (nice, scheduling policy, affinity, a session of their own) ends with them.
THREADS_PROBE = """
import os, threading
from parley.cpu import run_in_background
early = threading.Thread(target=threading.Event().wait, daemon=True)
early.start()
run_in_background(7, True, "last", cgroups=False)
late = threading.Thread(target=threading.Event().wait, daemon=True)
late.start()
for tid in sorted(int(t) for t in os.listdir("/proc/self/task")):
    stat = open(f"/proc/self/task/{tid}/stat").read().rsplit(")", 1)[1].split()
    print(stat[16], os.sched_getscheduler(tid), sorted(os.sched_getaffinity(tid)))
"""


def test_run_in_background__moves_every_thread_and_later_ones() -> None:
    argv = [sys.executable, "-c", THREADS_PROBE]
    out = subprocess.run(argv, capture_output=True, text=True, check=True)
    cpus = os.sched_getaffinity(0)
    last = sorted({max(cpus)} if len(cpus) > 1 else cpus)
    lines = out.stdout.splitlines()
    assert len(lines) == 3  # main, early, late
    assert set(lines) == {f"7 {os.SCHED_IDLE} {last}"}


SESSION_PROBE = """
import os, sys
from parley.cpu import in_idle_cgroup, run_in_background, session_nice
placement = run_in_background(7, sys.argv[1] == "idle", "all", cgroups=False)
print(placement.replace(" ", "_"), in_idle_cgroup(), session_nice())
"""


def probe(mode: str, start_new_session: bool = False) -> list[str]:
    argv = [sys.executable, "-c", SESSION_PROBE, mode]
    done = subprocess.run(
        argv, capture_output=True, text=True, check=True, start_new_session=start_new_session
    )
    return done.stdout.split()


def test_run_in_background__idle_without_a_cgroup_renices_its_session() -> None:
    """Between processes of different sessions, nice and SCHED_IDLE alone do not rank."""
    placed = probe("idle", start_new_session=True)
    if AUTOGROUP.exists():
        assert placed == ["session_reniced", "False", str(BACKGROUND_SESSION_NICE)]
    else:
        assert placed == ["none", "False", "None"]


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
    assert probe("idle") == ["none", "False", str(before)]
    assert session_nice() == before
    assert not in_idle_cgroup()
