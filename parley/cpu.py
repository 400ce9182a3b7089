"""CPU classes of processes: bulk byte work yields the CPU to the message path on a shared host.

Linux gives each session an autogroup (CONFIG_SCHED_AUTOGROUP, on by default) and shares a busy
CPU between autogroups by the autogroup's own nice value first; a process's nice and
SCHED_IDLE only rank it against the threads of its own session. Every engine and service here
starts a session of its own, so a process in the background class also renices its session's
autogroup (`/proc/self/autogroup`). Measured on the 2-core dev machine, two CPU burners in
separate sessions on one CPU: one of them SCHED_IDLE still took half the CPU; with its
autogroup at nice 19 it took 2%.

Bulk processes are also confined to one CPU: the kernel here does not preempt a task in kernel
mode (PREEMPT_NONE), so a message-path task woken on a CPU where MinIO is inside a long write
waits for the write to end, whatever its priority; the other CPU stays free of such sections.
"""

from __future__ import annotations

import os
from pathlib import Path

BACKGROUND_NICE = 10
# The autogroup of a background session: weight 15 against 1024 of a nice-0 session.
BACKGROUND_SESSION_NICE = 19
AUTOGROUP = Path("/proc/self/autogroup")


def bulk_cpus(spec: str, available: set[int]) -> set[int] | None:
    """The CPUs bulk work may use: "last" (the default) is the highest-numbered available CPU
    when there are several, a comma list names CPUs, "" or "all" means no confinement (None)."""
    spec = spec.strip().lower()
    if spec in ("", "all"):
        return None
    if spec == "last":
        return {max(available)} if len(available) > 1 else None
    chosen = {int(part) for part in spec.split(",") if part.strip()}
    if not chosen <= available:
        raise ValueError(f"CPUs {sorted(chosen - available)} are not available to this process")
    return chosen


def run_in_background(nice: int = BACKGROUND_NICE, idle: bool = True, cpus: str = "last") -> bool:
    """Moves this process, all its threads and the threads it starts into the background class:
    `nice`, SCHED_IDLE with `idle` (a woken message-path task preempts it at once, yet it still
    gets a small share of a busy CPU), and the CPUs `bulk_cpus(cpus)` picks. When the process
    leads its session, its autogroup goes to BACKGROUND_SESSION_NICE (with `idle`) or `nice`.

    Returns whether the autogroup was reniced: False for a process that does not lead its
    session (renicing would slow the shell or supervisor it shares the session with; start it
    with a session of its own) or on a kernel without autogroups."""
    confined = bulk_cpus(cpus, os.sched_getaffinity(0))
    for thread in os.listdir("/proc/self/task"):
        tid = int(thread)  # on Linux nice, policy and affinity are per thread, then inherited
        os.setpriority(os.PRIO_PROCESS, tid, nice)
        if idle:
            os.sched_setscheduler(tid, os.SCHED_IDLE, os.sched_param(0))
        if confined is not None:
            os.sched_setaffinity(tid, confined)
    return _renice_session(BACKGROUND_SESSION_NICE if idle else nice)


def _renice_session(nice: int) -> bool:
    if os.getsid(0) != os.getpid() or not AUTOGROUP.exists():
        return False
    AUTOGROUP.write_text(f"{nice}\n")
    return True


def session_nice(pid: int | str = "self") -> int | None:
    """The nice value of the autogroup `pid` is in, or None without autogroups."""
    try:
        text = Path(f"/proc/{pid}/autogroup").read_text()  # "/autogroup-42 nice 19"
    except FileNotFoundError:
        return None
    return int(text.split()[-1])
