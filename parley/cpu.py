"""CPU classes of processes: bulk byte work yields the CPU to the message path on a shared host.

Measured on the 2-core dev machine (bench-media, 200 messages/s beside 10 MB/s of uploads): nice
10 alone, and SCHED_IDLE alone, left the message p99 55-67% higher. Our reading, not verified
(switching the kernel's preemption model is not permitted here): this kernel does not preempt a
task in kernel mode (PREEMPT_NONE), so a message-path task woken on a CPU where MinIO or the
media server is inside a long write or copy waits for it, whatever their priority. Confining
the bulk processes to one CPU keeps the other free of such sections: in one A/B run each, MinIO
puts alone raised the message p99 by 30%, and by 9% with MinIO and the putter on one CPU.
"""

from __future__ import annotations

import os

BACKGROUND_NICE = 10


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


def run_in_background(nice: int = BACKGROUND_NICE, idle: bool = True, cpus: str = "last") -> None:
    """Moves this process, all its threads and the threads it starts into the background class:
    `nice`, SCHED_IDLE with `idle` (a woken message-path task preempts it at once, yet it still
    gets a small share of a busy CPU), and the CPUs `bulk_cpus(cpus)` picks."""
    confined = bulk_cpus(cpus, os.sched_getaffinity(0))
    for thread in os.listdir("/proc/self/task"):
        tid = int(thread)  # on Linux nice, policy and affinity are per thread, then inherited
        os.setpriority(os.PRIO_PROCESS, tid, nice)
        if idle:
            os.sched_setscheduler(tid, os.SCHED_IDLE, os.sched_param(0))
        if confined is not None:
            os.sched_setaffinity(tid, confined)
