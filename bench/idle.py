"""Idle cost: CPU of each part of a running system over a window in which nothing is sent.

Starts the processes `parley run` starts (ingress with its workers, projector, delivery, media,
checkpoints; bench.e2e.running_system) on fresh topics and a fresh keyspace, lets them settle,
then measures `--window` seconds of idleness. Only this stack's processes and the engines
serving it (the processes listening on the configured Kafka, Cassandra and MinIO ports) are
counted; the engines' figures include whatever else uses them meanwhile. Prints one JSON line
per part, then the total as the final line.
"""

from __future__ import annotations

import argparse
import json
import time

from bench.cpu_use import PARTS, CpuWindow
from bench.e2e import running_system
from infra.local.ports import listener_pids
from parley.config import Settings


def engine_pids(settings: Settings) -> set[int]:
    """The processes serving this stack's Kafka, Cassandra and MinIO ports on this host."""
    ports = (
        int(settings.kafka_bootstrap.split(",")[0].rsplit(":", 1)[1]),
        settings.cassandra_port,
        int(settings.minio_endpoint.rsplit(":", 1)[1]),
    )
    return {pid for port in ports for pid in listener_pids(port)}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.idle", description=__doc__)
    parser.add_argument("--settle", type=float, default=30.0,
                        help="seconds between serving and the window")  # fmt: skip
    parser.add_argument("--window", type=float, default=60.0)
    args = parser.parse_args()
    settings = Settings()
    with running_system(settings.ingress_workers) as system:
        time.sleep(args.settle)  # start-up work (folds, Faust's rebalance, JIT) is not idle cost
        window = CpuWindow.start(within={*system.pids, *engine_pids(settings)})
        time.sleep(args.window)
        used = window.stop()
    parts = [part for part in PARTS if part not in ("clients", "steal")]
    for part in parts:
        print(json.dumps({"bench": "idle", "part": part, "cpu_pct": used[part]}))
    total = round(sum(used[part] for part in parts), 1)
    print(
        json.dumps(
            {
                "bench": "idle",
                "total_cpu_pct": total,
                "parts": {part: used[part] for part in parts},
                "steal_pct": used["steal"],
                "window_s": args.window,
                "ingress_workers": settings.ingress_workers,
            }
        )
    )


if __name__ == "__main__":
    main()
