"""A whole Parley started by `parley run` on its own ports, topics, keyspace and consumer group."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from faults.probes import free_port, is_serving
from infra.local.processes import is_alive
from parley.adapters.kafka_admin import delete_topics
from parley.config import DEV_ADMIN_SECRET

READY_TIMEOUT_S = 240.0
STOP_TIMEOUT_S = 60.0

REPO_ROOT = Path(__file__).resolve().parents[2]


def descendants(pid: int) -> set[int]:
    """Every live process below `pid`, from /proc (children of children included)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                stat = (entry / "stat").read_text()
                parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


@dataclass
class Stack:
    process: subprocess.Popen[bytes]
    env: dict[str, str]
    log_path: Path
    topics: list[str]
    # Where each server listens and the admin secret, as its environment names them.
    ingress: str = field(init=False)
    delivery: str = field(init=False)
    media: str = field(init=False)
    admin_secret: str = field(init=False)

    def __post_init__(self) -> None:
        self.ingress, self.delivery, self.media = (
            f"127.0.0.1:{self.env[f'PARLEY_{server}_PORT']}"
            for server in ("INGRESS", "DELIVERY", "MEDIA")
        )
        self.admin_secret = self.env["PARLEY_ADMIN_SECRET"]

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"parley run exited early:\n{self.log_tail()}")
            if all(is_serving(t) for t in (self.ingress, self.delivery, self.media)):
                return
            time.sleep(0.5)
        raise AssertionError(f"parley run not ready in {READY_TIMEOUT_S}s:\n{self.log_tail()}")

    def stop(self) -> set[int]:
        """Ctrl-C as a person would (to the whole foreground process group, as a terminal
        does); returns the processes still alive afterwards."""
        family = descendants(self.process.pid)
        os.killpg(self.process.pid, signal.SIGINT)
        try:
            self.process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.kill()
        deadline = time.monotonic() + 5.0
        while time.monotonic() < deadline and any(is_alive(pid) for pid in family):
            time.sleep(0.1)
        return {pid for pid in family if is_alive(pid)}

    def kill(self) -> None:
        """Last-resort cleanup: the run and every child group it made."""
        for pid in descendants(self.process.pid) | {self.process.pid}:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(5)


def stack_env(tag: str) -> dict[str, str]:
    names = {
        "CONVERSATION_EVENTS": f"e2e.{tag}.conversation-events",
        "SIGNALS": f"e2e.{tag}.signals",
        "USER_UPDATES": f"e2e.{tag}.user-updates",
        "BROADCASTS": f"e2e.{tag}.broadcasts",
    }
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARLEY_")}
    env.update({f"PARLEY_TOPIC_{k}": v for k, v in names.items()})
    ports = (
        "INGRESS",
        "DELIVERY",
        "MEDIA",
        "INGRESS_METRICS",
        "DELIVERY_METRICS",
        "PROJECTOR_METRICS",
    )
    env.update({f"PARLEY_{name}_PORT": str(free_port()) for name in ports})
    env.update(
        PARLEY_CASSANDRA_KEYSPACE=f"e2e_{tag}",
        PARLEY_ADMIN_SECRET=DEV_ADMIN_SECRET,
        PARLEY_INGRESS_WORKERS="1",
        PARLEY_LOG_LEVEL="INFO",
    )
    for keep in ("PARLEY_CACHE_DIR", "PARLEY_VAR_DIR"):
        if keep in os.environ:
            env[keep] = os.environ[keep]
    return env


@contextlib.contextmanager
def parley_run(
    log_dir: Path, *, as_in_readme: bool = False, settings: Mapping[str, str] | None = None
) -> Iterator[Stack]:
    """`parley run` on a clean state of its own; killed if the test fails. `as_in_readme`
    starts it exactly as the README says, with `make run` from the checkout; `settings` adds
    `PARLEY_*` variables to its environment."""
    tag = uuid.uuid4().hex[:8]
    env = stack_env(tag) | {"PARLEY_PROJECTOR_GROUP": f"e2e-{tag}", **(settings or {})}
    log_path = log_dir / f"parley-run-{tag}.log"
    command = (
        ["make", "--no-print-directory", "run"]
        if as_in_readme
        else [sys.executable, "-m", "parley.cli", "run"]
    )
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    topics = [v for k, v in env.items() if k.startswith("PARLEY_TOPIC_")]
    stack = Stack(process, env, log_path, topics)
    try:
        stack.wait_ready()
        yield stack
    finally:
        if stack.process.poll() is None:
            stack.kill()
        with contextlib.suppress(Exception):
            delete_topics("127.0.0.1:9092", topics)
