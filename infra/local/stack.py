"""The lifecycle verbs over a list of engines: install, up, down, logs (status: engine_status)."""

from __future__ import annotations

import sys
import time

from infra.local import ports, processes
from infra.local.engine import Engine
from infra.local.errors import InfraError


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def install(engines: list[Engine]) -> None:
    for engine in engines:
        if engine.is_installed():
            say(f"{engine.name} {engine.version}: already installed")
            continue
        started = time.monotonic()
        engine.install()
        say(f"{engine.name} {engine.version}: installed in {time.monotonic() - started:.1f}s")


def up(engines: list[Engine]) -> None:
    """Engines one after the other (2 cores: parallel JVM boots only slow each other down)."""
    for engine in engines:
        started = time.monotonic()
        pid = processes.running_pid(engine.settings.pid_file(engine.name), engine.marker)
        if pid is None:
            _check_ports_free(engine)
            engine.install()
            command = engine.prepare()
            pid = processes.start(
                command,
                pid_file=engine.settings.pid_file(engine.name),
                log_file=engine.settings.log_file(engine.name),
                env=engine.environment(),
                background=engine.background,
            )
            say(f"{engine.name}: started pid {pid}, waiting up to {engine.ready_timeout_s:.0f}s")
        _wait_ready(engine, pid)
        engine.provision()
        say(f"{engine.name}: ready (pid {pid}) in {time.monotonic() - started:.1f}s")


def provision(engines: list[Engine]) -> None:
    """Apply topics, migrations and buckets to engines someone else runs (e.g. compose)."""
    for engine in engines:
        try:
            engine.probe()
        except Exception as error:
            raise InfraError(
                f"{engine.name} is not reachable on port {engine.ports[0]} ({error})",
                "start it first (`make infra-up`, or docker compose up -d --wait)",
            ) from error
        engine.provision()
        say(f"{engine.name}: provisioned")


def _check_ports_free(engine: Engine) -> None:
    for port in engine.ports:
        if not ports.is_listening(port):
            continue
        owners = ", ".join(ports.describe_pid(pid) for pid in sorted(ports.listener_pids(port)))
        raise InfraError(
            problem=f"port {port} (needed by {engine.name}) is already in use by "
            f"{owners or 'a process we cannot see'}, which this checkout did not start",
            fix="stop that process (if it is a Parley engine from another checkout, run "
            "`python -m infra.local down` there) and rerun `make infra-up`",
        )


def _wait_ready(engine: Engine, pid: int) -> None:
    deadline = time.monotonic() + engine.ready_timeout_s
    last_error = "its ports never opened"
    while time.monotonic() < deadline:
        if not processes.is_alive(pid):
            raise InfraError(
                problem=f"{engine.name} exited during startup",
                fix="read the log below; `python -m infra.local logs` shows it again",
                detail=processes.tail(engine.settings.log_file(engine.name)),
            )
        if all(ports.is_listening(port) for port in engine.ports[:1]):
            try:
                engine.probe()
                return
            except Exception as error:  # any client failure just means "not yet"
                last_error = f"{type(error).__name__}: {error}"
        time.sleep(1.0)
    raise InfraError(
        problem=f"{engine.name} not ready after {engine.ready_timeout_s:.0f}s ({last_error})",
        fix="read the log below; a slow machine may just need `make infra-up` again",
        detail=processes.tail(engine.settings.log_file(engine.name)),
    )


def down(engines: list[Engine]) -> None:
    """SIGTERM by recorded pid (never by name), SIGKILL after the grace period, then verify
    that nothing is left listening on the engines' ports."""
    for engine in reversed(engines):
        pid_file = engine.settings.pid_file(engine.name)
        pid = processes.running_pid(pid_file, engine.marker)
        if pid is None:
            say(f"{engine.name}: not running")
        else:
            killed = processes.stop(pid, engine.stop_grace_s)
            say(f"{engine.name}: stopped pid {pid}" + (" (SIGKILL)" if killed else ""))
        pid_file.unlink(missing_ok=True)
    leftovers = [
        f"{port} ({', '.join(ports.describe_pid(p) for p in ports.listener_pids(port))})"
        for engine in engines
        for port in engine.ports
        if ports.is_listening(port)
    ]
    if leftovers:
        raise InfraError(
            problem=f"still listening after down: {'; '.join(leftovers)}",
            fix="these processes were not started by this checkout; stop them by pid",
        )


def logs(engines: list[Engine], lines: int) -> None:
    for engine in engines:
        log_file = engine.settings.log_file(engine.name)
        print(f"===== {engine.name}: last {lines} lines of {log_file} =====")
        print(processes.tail(log_file, lines))
