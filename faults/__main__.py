"""`python -m faults [--profile full|short] [--single-node] [--fault NAME ...]`: the fault
suite, one JSON line.

On the local cluster (`make cluster-up`; its settings are read from var/cluster/parley.env)
every fault runs; with --single-node, on the single-node stack, only the services' faults."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import logging
import os
import sys

from faults.injectors import FAULTS
from faults.suite import PROFILES, run_suite
from infra.local import cluster
from parley.config import Settings


def cluster_environment() -> dict[str, str]:
    path = cluster.env_file(cluster.cluster_settings())
    if not path.exists():
        raise SystemExit(f"{path} is missing: run `make cluster-up` first")
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {key: value for key, value in pairs if key != "PARLEY_CASSANDRA_KEYSPACE"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m faults", description=__doc__)
    parser.add_argument("--profile", choices=sorted(PROFILES), default="full")
    parser.add_argument("--single-node", action="store_true", help="services' faults only")
    parser.add_argument(
        "--fault",
        action="append",
        choices=[fault.name for fault in FAULTS],
        help="run only this fault (repeatable), with the profile's load",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    for noisy in ("kafka", "cassandra", "aiokafka"):
        logging.getLogger(noisy).setLevel(logging.CRITICAL)
    if not args.single_node:
        os.environ.update(cluster_environment())
    profile = PROFILES[args.profile]
    if args.fault:
        profile = dataclasses.replace(profile, faults=args.fault)
    report = asyncio.run(run_suite(Settings(), profile, not args.single_node))
    print(json.dumps(report))
    totals = report["totals"]
    broken = sum(
        totals[k]
        for k in ("lost", "duplicated", "delivered_twice", "seq_gaps", "projection_diffs", "errors")
    )
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
