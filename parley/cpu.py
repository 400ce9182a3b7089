"""CPU classes of processes: bulk byte work yields the CPU to the message path on a shared host.

A process in the background class runs at `nice`, under SCHED_IDLE, on the CPUs `bulk_cpus`
picks, and in an idle CPU cgroup (`cpu.idle` = 1, BACKGROUND_CGROUP). The cgroup is what makes
the class work across processes. The fair scheduler compares a woken task with the running one
at the level of their groups; every engine and service here leads its own session, and Linux
gives each session an autogroup, so a task's own SCHED_IDLE or nice never reaches that
comparison. Measured on the 2-core dev machine:
- two CPU burners in separate sessions on one CPU: one of them SCHED_IDLE still took half of
  it; with its autogroup at nice 19, 2%;
- a task sleeping 0.5 ms at a time on the CPU where MinIO served 10 MB/s of puts woke more than
  1 ms late 94-141 times in 15 s with MinIO SCHED_IDLE and its autogroup at nice 19 (15-47
  with nothing running there). With MinIO in an idle cgroup, 15-35 times: a non-idle group
  preempts an idle one as it wakes; otherwise the running group keeps its slice.
Where no cgroup can be made (no cpu controller, no permission), the session's autogroup is
reniced instead, which takes CPU share but not wake-up latency from the message path.

Bulk processes are also confined to one CPU, so the other CPU never waits for them at all.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Literal

BACKGROUND_NICE = 10
# The CPU cgroup of background processes, made beside the cgroup of the process that enters it.
BACKGROUND_CGROUP = "parley-background"
# Without a cgroup, the autogroup of a background session: weight 15 against 1024 at nice 0.
BACKGROUND_SESSION_NICE = 19
AUTOGROUP = Path("/proc/self/autogroup")

Placement = Literal["idle cgroup", "session reniced", "none"]


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


def run_in_background(
    nice: int = BACKGROUND_NICE, idle: bool = True, cpus: str = "last", cgroups: bool = True
) -> Placement:
    """Moves this process, all its threads and the threads it starts into the background class:
    `nice`, SCHED_IDLE with `idle` (yet it still gets a small share of a busy CPU), the CPUs
    `bulk_cpus(cpus)` picks, and with `idle` an idle CPU cgroup.

    Returns where the process went: "idle cgroup"; else "session reniced" (its session's
    autogroup to BACKGROUND_SESSION_NICE with `idle`, or to `nice`); else "none", for a process
    that does not lead its session (renicing would slow the shell or supervisor it shares the
    session with; start it with a session of its own) on a kernel without usable cgroups.
    Without `cgroups` no cgroup is made or entered (the host's hierarchy is left alone)."""
    confined = bulk_cpus(cpus, os.sched_getaffinity(0))
    for thread in os.listdir("/proc/self/task"):
        tid = int(thread)  # on Linux nice, policy and affinity are per thread, then inherited
        os.setpriority(os.PRIO_PROCESS, tid, nice)
        if idle:
            os.sched_setscheduler(tid, os.SCHED_IDLE, os.sched_param(0))
        if confined is not None:
            os.sched_setaffinity(tid, confined)
    if idle and cgroups and enter_idle_cgroup(cpu_cgroup("self"), os.getpid()):
        return "idle cgroup"
    if _renice_session(BACKGROUND_SESSION_NICE if idle else nice):
        return "session reniced"
    return "none"


def idle_cgroup_of(mount: Path, own: Path) -> Path:
    """The directory of the idle cgroup for a process in cgroup `own` of the hierarchy mounted
    at `mount`: BACKGROUND_CGROUP under its own, or its own when it is there already (the child
    of a background process)."""
    if own.name != BACKGROUND_CGROUP:
        own /= BACKGROUND_CGROUP
    return mount / own.relative_to("/")


def enter_idle_cgroup(found: tuple[Path, Path] | None, pid: int) -> bool:
    """Makes the idle cgroup for `found` (mount, own cgroup; see `cpu_cgroup`), marks it idle
    and moves `pid` with all its threads there; False where that cannot be done."""
    if found is None:
        return False
    group = idle_cgroup_of(*found)
    try:
        group.mkdir(exist_ok=True)
        (group / "cpu.idle").write_text("1\n")
        (group / "cgroup.procs").write_text(f"{pid}\n")
    except OSError:  # no permission, or cgroup v2 rules (a parent with processes of its own)
        return False
    return True


def cpu_cgroup(pid: int | str) -> tuple[Path, Path] | None:
    """Where the cgroup hierarchy with the cpu controller is mounted, and `pid`'s cgroup in it."""
    return find_cpu_cgroup(
        Path("/proc/self/mountinfo").read_text(), _read(Path(f"/proc/{pid}/cgroup"))
    )


def find_cpu_cgroup(
    mountinfo: str, proc_cgroup: str, read: Callable[[Path], str] | None = None
) -> tuple[Path, Path] | None:
    """`cpu_cgroup` from the text of /proc/self/mountinfo and /proc/<pid>/cgroup; `read` reads
    a cgroup2 mount's cgroup.controllers (the file itself by default)."""
    read = read or _read
    mounts: dict[str, Path] = {}  # "v1" / "v2" -> mount point
    for line in mountinfo.splitlines():
        left, _, right = line.partition(" - ")
        fstype, _source, options = [*right.split(), "", "", ""][:3]
        mount = Path(left.split()[4])
        if fstype == "cgroup" and "cpu" in options.split(","):
            mounts["v1"] = mount
        elif fstype == "cgroup2" and "cpu" in read(mount / "cgroup.controllers").split():
            mounts["v2"] = mount
    for line in proc_cgroup.splitlines():
        _hierarchy, controllers, path = line.split(":", 2)
        if "cpu" in controllers.split(",") and "v1" in mounts:
            return mounts["v1"], Path(path)
        if controllers == "" and "v2" in mounts and "v1" not in mounts:
            return mounts["v2"], Path(path)
    return None


def in_idle_cgroup(pid: int | str = "self") -> bool:
    """Whether `pid` is in a CPU cgroup marked idle."""
    found = cpu_cgroup(pid)
    if found is None:
        return False
    mount, own = found
    return _read(mount / own.relative_to("/") / "cpu.idle").strip() == "1"


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def _renice_session(nice: int) -> bool:
    if os.getsid(0) != os.getpid() or not AUTOGROUP.exists():
        return False
    AUTOGROUP.write_text(f"{nice}\n")
    return True


def session_nice(pid: int | str = "self") -> int | None:
    """The nice value of the autogroup `pid` is in, or None without one: a kernel without
    autogroups, or a session that never got its own (one begun before autogroups were on, such
    as init's and that of a daemon that never called setsid), whose file is empty."""
    try:
        return autogroup_nice(Path(f"/proc/{pid}/autogroup").read_text())
    except FileNotFoundError:
        return None


def autogroup_nice(text: str) -> int | None:
    """The nice value in a /proc/<pid>/autogroup file: "/autogroup-42 nice 19", or "" (None)."""
    words = text.split()
    return int(words[-1]) if words else None
