"""Whether a TCP port answers and who listens on it (from /proc, Linux): errors and status
lines name the process."""

from __future__ import annotations

import os
import socket
from pathlib import Path

_LISTEN = "0A"


def _listening_inodes(port: int) -> set[str]:
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state == _LISTEN and int(local.rsplit(":", 1)[1], 16) == port:
                inodes.add(inode)
    return inodes


def is_listening(port: int) -> bool:
    return bool(_listening_inodes(port))


def listener_pids(port: int) -> set[int]:
    """Pids holding a listening socket on `port` (empty if none, or if not visible to us)."""
    inodes = {f"socket:[{inode}]" for inode in _listening_inodes(port)}
    pids: set[int] = set()
    if not inodes:
        return pids
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            for fd in os.scandir(f"/proc/{entry.name}/fd"):
                if os.readlink(fd.path) in inodes:
                    pids.add(int(entry.name))
                    break
        except OSError:
            continue
    return pids


def answers(host: str, port: int, timeout_s: float = 0.5) -> bool:
    """A TCP connection to host:port succeeds (any machine, unlike `is_listening`)."""
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except OSError:
        return False


def command_of(pid: int) -> str:
    """The command line, cut to a readable length; empty when it is not visible to us."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return ""
    return raw.replace(b"\0", b" ").decode(errors="replace").strip()[:120]


def cwd_of(pid: int) -> str:
    """The working directory (a checkout's root, for engines `make infra-up` started);
    empty when it is not visible to us (another user's process)."""
    try:
        return os.readlink(f"/proc/{pid}/cwd")
    except OSError:
        return ""


def describe_pid(pid: int) -> str:
    """`pid 123 (java -Xmx1g ...) cwd /work/checkout`, with what /proc lets us see."""
    command, cwd = command_of(pid), cwd_of(pid)
    return f"pid {pid}" + (f" ({command})" if command else "") + (f" cwd {cwd}" if cwd else "")
