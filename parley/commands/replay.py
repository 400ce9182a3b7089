"""`parley replay --into KEYSPACE`: rebuilds every read model from offset 0 into a new keyspace
through the projector's code, with a progress bar (events done, events/s, ETA)."""

from __future__ import annotations

import asyncio
import json
import sys

import click
from tqdm import tqdm

from parley.adapters.kafka_backlog import BacklogSpan
from parley.config import Settings
from streams.replay import ReplayRefused, replay


@click.command("replay")
@click.option("--into", "keyspace", required=True, help="Keyspace to build (created if missing).")
@click.option(
    "--progress/--no-progress", default=None, help="Progress bar on stderr (default: on a tty)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON line.")
def replay_command(keyspace: str, progress: bool | None, as_json: bool) -> None:
    """Rebuild every read model from the log into KEYSPACE, then compare it with
    `parley audit diff LIVE_KEYSPACE KEYSPACE`."""
    settings = Settings()
    bar = tqdm(
        unit="events", unit_scale=True, smoothing=0.05, dynamic_ncols=True,
        disable=None if progress is None else not progress,
    )  # fmt: skip

    def started(span: BacklogSpan) -> None:
        bar.reset(total=span.events)
        bar.set_description(f"replay {settings.topic_conversation_events} -> {keyspace}")

    try:
        report = asyncio.run(replay(settings, keyspace, started, bar.update))
    except ReplayRefused as error:
        click.echo(f"parley replay: {error}", err=True)
        sys.exit(2)
    finally:
        bar.close()
    ends = {p: end for p, end in sorted(report.span.ends.items())}
    summary = {
        "keyspace": report.keyspace,
        "topic": report.topic,
        "events": report.events,
        "undecodable": report.undecodable,
        "seconds": round(report.seconds, 2),
        "events_per_s": round(report.events_per_s),
        "ends": ends,
    }
    if as_json:
        click.echo(json.dumps(summary))
        return
    covered = ", ".join(f"p{p}<{end}" for p, end in ends.items())
    click.echo(
        f"replayed {report.events:,} events into {keyspace} in {report.seconds:.1f} s "
        f"({report.events_per_s:,.0f} events/s); the log up to {covered}"
        + (f"; {report.undecodable} undecodable records skipped" if report.undecodable else "")
    )
