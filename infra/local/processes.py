"""Start an engine detached with a pid file and a log file; find it again; stop it by pid."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from parley.cpu import run_in_background


def read_pid(pid_file: Path) -> int | None:
    try:
        return int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return None


def is_alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"  # a zombie has exited; only its parent's wait() is missing


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def running_pid(pid_file: Path, marker: str) -> int | None:
    """The recorded pid if that process is alive and still ours (its command line has
    `marker`, so a recycled pid is never mistaken for the engine)."""
    pid = read_pid(pid_file)
    if pid is None or not is_alive(pid) or marker not in cmdline(pid):
        return None
    return pid


def start(
    command: Sequence[str],
    *,
    pid_file: Path,
    log_file: Path,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    background: bool = False,
) -> int:
    """Launch in its own session (it outlives this CLI), stdout+stderr appended to log_file.
    `background`: in the background CPU class of `parley.cpu` (idle cgroup, SCHED_IDLE, one CPU)."""
    pid_file.parent.mkdir(parents=True, exist_ok=True)
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as log:
        log.write(f"\n--- started {time.strftime('%Y-%m-%dT%H:%M:%S%z')} ---\n".encode())
        log.flush()
        process = subprocess.Popen(
            list(command),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            start_new_session=True,
            # In the child before exec: inherited by every thread the engine starts.
            preexec_fn=run_in_background if background else None,
        )
    pid_file.write_text(f"{process.pid}\n")
    return process.pid


def stop(pid: int, grace_seconds: float) -> bool:
    """SIGTERM, wait up to `grace_seconds`, then SIGKILL. True if it had to be killed."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + grace_seconds
    while time.monotonic() < deadline:
        _reap(pid)
        if not is_alive(pid):
            return False
        time.sleep(0.2)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return False
    for _ in range(50):
        _reap(pid)
        if not is_alive(pid):
            break
        time.sleep(0.1)
    return True


def _reap(pid: int) -> None:
    """Collect the exit status if we happen to be the parent (same `up ... down` process)."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def tail(path: Path, lines: int = 60) -> str:
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - 256 * 1024))
            text = handle.read().decode(errors="replace")
    except OSError:
        return f"(no log at {path})"
    return "\n".join(text.splitlines()[-lines:])
