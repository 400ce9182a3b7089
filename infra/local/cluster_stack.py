"""`python -m infra.local.cluster_stack {up,down,status,env}`: the local cluster's lifecycle.

`up` starts the three brokers together (a KRaft quorum needs a majority to elect a leader),
then the Cassandra nodes one after the other (a node joins the ring through the seed), then
MinIO; it provisions with cluster settings, writes var/cluster/parley.env and prints the start
time and the engines' resident memory."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from infra.local import cli, cluster, ports, processes
from infra.local.engine import Engine
from infra.local.errors import InfraError
from infra.local.settings import Settings, load_versions
from infra.local.stack import say


def _host_of(engine: Engine) -> str:
    return str(getattr(engine, "host", "127.0.0.1"))


def _pid(engine: Engine) -> int | None:
    return processes.running_pid(engine.settings.pid_file(engine.name), engine.marker)


def launch(engine: Engine) -> int:
    pid = _pid(engine)
    if pid is not None:
        return pid
    for port in engine.ports:
        if ports.answers(_host_of(engine), port):
            raise InfraError(
                f"{_host_of(engine)}:{port} (needed by {engine.name}) is already in use",
                "stop what listens there, or run `make cluster-down` if it is a stale cluster",
            )
    engine.install()
    pid = processes.start(
        engine.prepare(),
        pid_file=engine.settings.pid_file(engine.name),
        log_file=engine.settings.log_file(engine.name),
        env=engine.environment(),
        background=engine.background,
    )
    say(f"{engine.name}: started pid {pid}")
    return pid


def wait_ready(engine: Engine, pid: int, started: float) -> None:
    deadline = time.monotonic() + engine.ready_timeout_s
    last = "no answer"
    while time.monotonic() < deadline:
        if not processes.is_alive(pid):
            raise InfraError(
                f"{engine.name} exited during startup",
                "read its log below",
                processes.tail(engine.settings.log_file(engine.name)),
            )
        try:
            engine.probe()
            say(f"{engine.name}: ready after {time.monotonic() - started:.1f}s")
            return
        except Exception as error:  # any client failure means "not yet"
            last = f"{type(error).__name__}: {error}"
        time.sleep(1.0)
    raise InfraError(
        f"{engine.name} not ready after {engine.ready_timeout_s:.0f}s ({last})",
        "read its log below",
        processes.tail(engine.settings.log_file(engine.name)),
    )


def rss_mb(pid: int) -> float:
    """Resident memory of one process, MB (VmRSS from /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def up(settings: Settings, keyspace: str) -> None:
    started = time.monotonic()
    engines = cluster.engines(settings, load_versions())
    brokers: list[Engine] = [e for e in engines if isinstance(e, cluster.KafkaNode)]
    others: list[Engine] = [e for e in engines if not isinstance(e, cluster.KafkaNode)]
    pids = {e.name: launch(e) for e in brokers}
    for engine in brokers:
        wait_ready(engine, pids[engine.name], started)
    for engine in others:  # one JVM boot at a time: 2 cores
        pids[engine.name] = launch(engine)
        wait_ready(engine, pids[engine.name], started)
    ready = time.monotonic() - started
    others[-1].provision()  # MinIO's buckets
    for change in cluster.provision_cluster(keyspace):
        say(change)
    path = cluster.env_file(settings)
    lines = [f"{key}={value}" for key, value in cluster.parley_environment().items()]
    path.write_text("\n".join([f"PARLEY_CASSANDRA_KEYSPACE={keyspace}", *lines, ""]))
    total = sum(rss_mb(pid) for pid in pids.values())
    say(
        f"cluster up: engines serving after {ready:.1f}s, provisioned after "
        f"{time.monotonic() - started:.1f}s; RSS {total:.0f} MB in all; "
        f"settings: set -a; . {path}"
    )


def down(settings: Settings) -> None:
    for engine in reversed(cluster.engines(settings, load_versions())):
        pid = _pid(engine)
        if pid is None:
            continue
        killed = processes.stop(pid, engine.stop_grace_s)
        say(f"{engine.name}: stopped pid {pid}" + (" (SIGKILL)" if killed else ""))
        engine.settings.pid_file(engine.name).unlink(missing_ok=True)


def status(settings: Settings) -> int:
    down_count = 0
    for engine in cluster.engines(settings, load_versions()):
        pid = _pid(engine)
        serving = pid is not None and ports.answers(_host_of(engine), engine.ports[0])
        down_count += not serving
        memory = f"{rss_mb(pid):6.0f} MB" if pid is not None else "       -"
        where = f"{_host_of(engine)}:{engine.ports[0]}"
        print(f"{engine.name:<12} {'up' if serving else 'down':<5} {where:<16} pid {pid} {memory}")
    return 1 if down_count else 0


def run(command: str, keyspace: str) -> int:
    settings = cluster.cluster_settings()
    if command == "up":
        up(settings, keyspace)
    elif command == "down":
        down(settings)
    elif command == "env":
        print(cluster.env_file(settings).read_text(), end="")
    else:
        return status(settings)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m infra.local.cluster_stack", description=__doc__
    )
    parser.add_argument("command", choices=["up", "down", "status", "env"])
    parser.add_argument("--keyspace", default="parley", help="keyspace `up` provisions")
    args = parser.parse_args(argv)
    return cli.run(lambda: run(args.command, args.keyspace))


if __name__ == "__main__":
    sys.exit(main())
