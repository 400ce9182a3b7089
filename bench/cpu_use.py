"""Where the CPU went during a bench phase: CPU seconds of each part of the running system.

A part is an engine (Kafka, Cassandra, MinIO) or a Parley service (ingress, projector,
delivery, media) together with every process it started (the ingress workers). Processes
that are not part of the system are left out, except the bench's own load processes, running
or ended within the window ("clients": on this one machine they take CPU from the system too).
"""

from __future__ import annotations

import time
from collections.abc import Collection
from dataclasses import dataclass, field

import psutil

PYTHON_MODULES = {
    "services.ingress": "ingress",
    "streams": "projector",
    "services.delivery": "delivery",
    "services.media": "media",
    "services.checkpoints": "checkpoints",
}
JAVA_MAIN_CLASSES = {
    "kafka.Kafka": "kafka",
    "org.apache.cassandra.service.CassandraDaemon": "cassandra",
}
EXECUTABLES = {"minio": "minio"}
# "clients": the bench's own load processes (message senders and receivers, upload clients),
# running or ended (and waited for) in the window;
# "steal": time the hypervisor gave this machine's CPUs to something else while they had work
# (summed over the CPUs, as every other part).
PARTS = (
    *JAVA_MAIN_CLASSES.values(), *EXECUTABLES.values(), *PYTHON_MODULES.values(), "clients",
    "steal",
)  # fmt: skip


def part_of(cmdline: list[str]) -> str | None:
    """The part a command line starts, if any ("python -m services.media" -> "media")."""
    if not cmdline:
        return None
    if "-m" in cmdline[:-1]:
        return PYTHON_MODULES.get(cmdline[cmdline.index("-m") + 1])
    for main_class, part in JAVA_MAIN_CLASSES.items():
        if main_class in cmdline:
            return part
    return EXECUTABLES.get(cmdline[0].rsplit("/", 1)[-1])


def snapshot(within: Collection[int] = ()) -> dict[str, float]:
    """CPU seconds (user + system, all threads) used so far by each part's processes. With
    `within`, only those processes and their descendants count (one stack on a shared host:
    others' tests and clusters run the same modules and engines)."""
    parts: dict[int, str | None] = {}
    used: dict[str, float] = dict.fromkeys(PARTS, 0.0)
    own = psutil.Process()
    mine = {child.pid for child in own.children(recursive=True)}
    counted = _trees(within) if within else None
    for proc in psutil.process_iter():
        if counted is not None and proc.pid not in counted and proc.pid not in mine:
            continue
        part = _part(proc, parts) or ("clients" if proc.pid in mine else None)
        if part is None:
            continue
        try:
            times = proc.cpu_times()
        except psutil.Error:  # it ended meanwhile
            continue
        used[part] += times.user + times.system
    ended = own.cpu_times()
    used["clients"] += ended.children_user + ended.children_system
    used["steal"] = psutil.cpu_times().steal
    return used


def _trees(roots: Collection[int]) -> set[int]:
    """The pids of `roots` and of every process they started, as they stand now."""
    pids = set(roots)
    for root in roots:
        try:
            pids.update(child.pid for child in psutil.Process(root).children(recursive=True))
        except psutil.Error:  # it ended
            continue
    return pids


def _part(proc: psutil.Process, parts: dict[int, str | None]) -> str | None:
    chain: list[int] = []
    current: psutil.Process | None = proc
    found: str | None = None
    while current is not None and current.pid > 1:
        if current.pid in parts:
            found = parts[current.pid]
            break
        chain.append(current.pid)
        try:
            found = part_of(current.cmdline())
            current = None if found else current.parent()
        except psutil.Error:
            break
    for pid in chain:
        parts[pid] = found
    return found


@dataclass
class CpuWindow:
    """CPU use of each part between `start` and `stop`, in % of one core."""

    started: dict[str, float]
    at: float
    within: Collection[int] = field(default=())

    @classmethod
    def start(cls, within: Collection[int] = ()) -> CpuWindow:
        """`within`: count only these processes and their descendants (see `snapshot`)."""
        return cls(snapshot(within), time.monotonic(), within)

    def stop(self) -> dict[str, float]:
        ended, elapsed = snapshot(self.within), time.monotonic() - self.at
        return {
            part: round((ended[part] - self.started[part]) / elapsed * 100, 1) for part in PARTS
        }
