"""Command line: `python -m infra.local {install,up,down,status,logs,provision} [engine ...]`."""

from __future__ import annotations

import argparse
import sys
import time

from infra.local import cli, engine_status, stack
from infra.local.cassandra import Cassandra
from infra.local.engine import Engine
from infra.local.kafka import Kafka
from infra.local.minio import MinIO
from infra.local.settings import Settings, load_versions

COMMANDS = ["install", "up", "down", "status", "logs", "provision"]
ENGINES: dict[str, type[Engine]] = {"kafka": Kafka, "cassandra": Cassandra, "minio": MinIO}


def build_engines(names: list[str]) -> list[Engine]:
    settings, versions = Settings.from_env(), load_versions()
    return [ENGINES[name](settings, versions) for name in names or list(ENGINES)]


def run(command: str, engines: list[Engine], lines: int) -> int:
    if command == "install":
        stack.install(engines)
    elif command == "up":
        started = time.monotonic()
        stack.up(engines)
        stack.say(f"all up in {time.monotonic() - started:.1f}s")
    elif command == "down":
        stack.down(engines)
    elif command == "status":
        rows = engine_status.status(engines)
        for row in rows:
            print(f"{row.name:<10} {row.state:<5} ports: {row.ports_text():<12} {row.owner}")
        return 0 if all(row.is_up for row in rows) else 1
    elif command == "provision":
        stack.provision(engines)
    elif command == "logs":
        stack.logs(engines, lines)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.local", description=__doc__)
    parser.add_argument("command", choices=COMMANDS)
    parser.add_argument("engines", nargs="*", choices=[[], *ENGINES], metavar="engine",
                        help=f"any of {', '.join(ENGINES)} (default: all)")  # fmt: skip
    parser.add_argument("-n", "--lines", type=int, default=80, help="log lines for `logs`")
    args = parser.parse_args(argv)
    return cli.run(lambda: run(args.command, build_engines(args.engines), args.lines))


if __name__ == "__main__":
    sys.exit(main())
