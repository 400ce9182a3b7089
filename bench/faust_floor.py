"""Faust's floor: how fast a Faust agent that does nothing but ack consumes a backlog.

The projector is a Faust agent (the issue asks for faust-streaming). Faust hands an agent one
event at a time, through a per-event task and queue hand-off in its consumer and stream, so
its consumption has a cost per event however little the agent does. This benchmark measures
that cost on the projector's own Faust app settings (streams/app.py): it produces a backlog
of small records to a fresh topic, runs an agent that acks each event and does nothing else,
and prints one JSON line with events/s and the worker's CPU per event. It bounds what any
Faust-based projector can reach on this machine: the projector adds its own work (decoding,
folding, Cassandra writes, notices) on top, and Cassandra needs CPU of its own.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
import uuid
from typing import Any

from kafka import KafkaProducer

from parley.adapters.kafka_admin import delete_topics, ensure_topics
from parley.config import Settings
from streams.app import create_app

RECORD_BYTES = 120  # about the size of an encoded text message event


def produce_backlog(bootstrap: str, topic: str, count: int) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=20, batch_size=256 * 1024)
    payload = os.urandom(RECORD_BYTES)
    for i in range(count):
        producer.send(topic, key=f"k{i % 3000}".encode(), value=payload)
    producer.flush()
    producer.close()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.faust_floor", description=__doc__)
    parser.add_argument("--events", type=int, default=200_000)
    args = parser.parse_args()
    settings = Settings()
    topic = f"bench-floor-{uuid.uuid4().hex[:8]}"
    ensure_topics(settings.kafka_bootstrap, {topic: 6})
    produce_backlog(settings.kafka_bootstrap, topic, args.events)
    app = create_app(settings, f"bench-floor-{topic}")
    source = app.topic(topic, internal=False)
    seen = {"events": 0, "started": 0.0, "cpu": 0.0}

    def finish() -> None:
        elapsed = time.monotonic() - seen["started"]
        cpu = time.process_time() - seen["cpu"]
        delete_topics(settings.kafka_bootstrap, [topic])
        result = {
            "bench": "faust_floor",
            "events": seen["events"],
            "events_per_s": round(seen["events"] / elapsed, 1),
            "cpu_us_per_event": round(cpu / seen["events"] * 1e6, 1),
        }
        # Faust's worker routes sys.stdout into its logger: write the line to the real stdout.
        os.write(1, (json.dumps(result) + "\n").encode())
        os._exit(0)  # the Faust worker has no "stop after N events": leave at once

    @app.agent(source, name="ack_only")
    async def ack_only(stream: Any) -> Any:
        logging.getLogger().setLevel(logging.WARNING)  # as streams/app.py does
        manual = stream.noack()
        async for event in manual.events():
            if not seen["events"]:
                seen["started"], seen["cpu"] = time.monotonic(), time.process_time()
            await manual.ack(event)
            seen["events"] += 1
            if seen["events"] >= args.events:
                finish()
        yield  # pragma: no cover (an agent must be a generator to be a Faust agent)

    sys.argv = ["bench.faust_floor", "worker", "--loglevel", "warn", "--without-web"]
    app.main()


if __name__ == "__main__":
    main()
