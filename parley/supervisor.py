"""Runs child processes in own process groups: prefixed logs, restart with backoff, clean stop."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger("parley.run")

FIRST_BACKOFF_S = 1.0
MAX_BACKOFF_S = 30.0
# A child that stayed up this long was healthy: its next crash restarts it at the first backoff.
HEALTHY_AFTER_S = 30.0


@dataclass(frozen=True)
class ChildSpec:
    name: str
    argv: Sequence[str]
    env: dict[str, str] = field(default_factory=dict)


@dataclass
class Child:
    spec: ChildSpec
    process: asyncio.subprocess.Process | None = None
    restarts: int = 0
    started_at: float = 0.0


class Supervisor:
    """Starts every child, restarts a crashed one (1 s, 2 s, 4 s ... up to 30 s), and on
    `stop()` sends SIGTERM to each child's process group, waits `grace_s`, then SIGKILLs the
    group, so grandchildren (the ingress's worker processes) never outlive `parley run`.

    `state_file`, when set, holds {name: pid} of the running children for `parley status`.
    """

    def __init__(
        self, specs: Sequence[ChildSpec], grace_s: float = 15.0, state_file: Path | None = None
    ) -> None:
        self.children = [Child(spec) for spec in specs]
        self._grace_s = grace_s
        self._state_file = state_file
        self._stopping = asyncio.Event()
        self._pumps: set[asyncio.Task[None]] = set()
        self._width = max((len(spec.name) for spec in specs), default=0)

    async def run(self) -> None:
        """Supervises until `stop()`; then every child and its group is gone."""
        watchers = [asyncio.create_task(self._watch(child)) for child in self.children]
        try:
            await self._stopping.wait()
        finally:
            await asyncio.gather(*(self._terminate(child) for child in self.children))
            for watcher in watchers:
                watcher.cancel()
            await asyncio.gather(*watchers, return_exceptions=True)
            await asyncio.gather(*self._pumps, return_exceptions=True)  # flush the last lines
            self._write_state()

    def stop(self) -> None:
        self._stopping.set()

    async def _watch(self, child: Child) -> None:
        backoff = FIRST_BACKOFF_S
        while not self._stopping.is_set():
            await self._start(child)
            assert child.process is not None
            code = await child.process.wait()
            if self._stopping.is_set():
                return
            if time.monotonic() - child.started_at > HEALTHY_AFTER_S:
                backoff = FIRST_BACKOFF_S
            child.restarts += 1
            log.warning(
                "child exited, restarting",
                extra={"child": child.spec.name, "code": code, "backoff_s": backoff},
            )
            self._kill_group(child, signal.SIGKILL)  # leftovers of the dead child
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), backoff)
            backoff = min(backoff * 2, MAX_BACKOFF_S)

    async def _start(self, child: Child) -> None:
        env = {**os.environ, **child.spec.env, "PYTHONUNBUFFERED": "1"}
        child.process = await asyncio.create_subprocess_exec(
            *child.spec.argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env=env,
            start_new_session=True,  # own process group: Ctrl-C reaches only us, we stop it
        )
        child.started_at = time.monotonic()
        log.info("child started", extra={"child": child.spec.name, "pid": child.process.pid})
        self._write_state()
        pump = asyncio.create_task(self._pump(child.spec.name, child.process))
        self._pumps.add(pump)
        pump.add_done_callback(self._pumps.discard)

    async def _pump(self, name: str, process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None
        prefix = f"{name:<{self._width}} | "
        while line := await process.stdout.readline():
            sys.stdout.write(prefix + line.decode(errors="replace").rstrip() + "\n")
            sys.stdout.flush()

    async def _terminate(self, child: Child) -> None:
        process = child.process
        if process is None:
            return
        if process.returncode is None:
            self._kill_group(child, signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), self._grace_s)
            except TimeoutError:
                log.warning("child ignored SIGTERM, killing", extra={"child": child.spec.name})
        # SIGKILL the group even after a clean exit: a grandchild may linger in it.
        self._kill_group(child, signal.SIGKILL)
        if process.returncode is None:
            await process.wait()
        log.info("child stopped", extra={"child": child.spec.name, "code": process.returncode})

    @staticmethod
    def _kill_group(child: Child, signum: int) -> None:
        if child.process is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child.process.pid, signum)  # pgid == pid: start_new_session

    def _write_state(self) -> None:
        if self._state_file is None:
            return
        running = {
            c.spec.name: c.process.pid
            for c in self.children
            if c.process is not None and c.process.returncode is None
        }
        if not running or self._stopping.is_set():
            self._state_file.unlink(missing_ok=True)
            return
        self._state_file.parent.mkdir(parents=True, exist_ok=True)
        self._state_file.write_text(json.dumps({"pid": os.getpid(), "children": running}))
