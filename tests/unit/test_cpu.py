"""The background CPU class: which CPUs bulk work gets, and what a process looks like in it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from parley.cpu import bulk_cpus


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
