"""`parley audit export` (a hash-chained trail and its manifest, to a directory or an Object Lock
bucket) and `parley audit verify` (recomputes the chain, names the first record changed)."""

from __future__ import annotations

import json
import re
import sys
import time
from datetime import timedelta
from typing import Any

import click

from parley.adapters.minio_exports import ExportStoreError
from parley.audit import open_log
from parley.audit_exports import ExportExists, Target, check
from parley.audit_exports import export as export_trail
from parley.config import Settings
from parley.domain.audit_bounds import BadBound, Bound, OffsetBound, TimeBound, parse_bound
from parley.domain.audit_chain import BadManifest

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhd])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> timedelta:
    """`30s`, `15m`, `12h`, `7d`."""
    match = _DURATION.match(text.strip())
    if match is None:
        raise click.BadParameter(f"{text!r}: give a number and s, m, h or d (e.g. 1d)")
    return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])


def _bound(ctx: click.Context, param: click.Parameter, value: Any) -> Bound | None:
    if value is None or isinstance(value, (OffsetBound, TimeBound)):
        return value
    try:
        return parse_bound(str(value))
    except BadBound as error:
        raise click.BadParameter(str(error)) from None


@click.command("export")
@click.option("--conversation", "key", required=True, help="Conversation key.")
@click.option("--from", "start", callback=_bound, help="First offset or time (inclusive).")
@click.option("--until", "end", callback=_bound, help="Last offset or time (inclusive).")
@click.option("--to", "destination", required=True, help="s3://BUCKET/PREFIX or a directory.")
@click.option(
    "--retain-for", "retain_for", default="1d", show_default=True,
    help="Object Lock retention (COMPLIANCE) of an s3 export: 30s, 15m, 12h, 7d.",
)  # fmt: skip
@click.option("--partition", type=int, default=None, help="Read this partition, not the key's.")
def export(
    key: str,
    start: Bound | None,
    end: Bound | None,
    destination: str,
    retain_for: str,
    partition: int | None,
) -> None:
    """Export one conversation's trail, hash-chained, with a manifest holding its head hash."""
    settings, target = Settings(), Target.parse(destination)
    retention = parse_duration(retain_for)
    began = time.perf_counter()
    try:
        with open_log(settings) as log:
            manifest = export_trail(settings, log, key, start, end, target, retention, partition)
    except (ExportExists, ExportStoreError) as error:
        raise click.ClickException(str(error)) from None
    seconds = time.perf_counter() - began
    click.echo(
        f"exported {manifest.events:,} events of {key} ({manifest.topic} partition "
        f"{manifest.partition}, offsets {manifest.from_offset} to {manifest.to_offset}) to "
        f"{target} in {seconds:.1f} s"
    )
    if manifest.retain_until:
        click.echo(f"locked (COMPLIANCE): no delete or overwrite until {manifest.retain_until}")
    click.echo(f"head {manifest.head}")
    click.echo(f"keep the head: `parley audit verify {target} --head {manifest.head}`")


@click.command("verify")
@click.argument("location")
@click.option("--head", default=None, help="The head hash given at export time.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def verify(location: str, head: str | None, fmt: str) -> None:
    """Recompute an export's chain (PATH or s3://BUCKET/PREFIX) against its manifest; name the
    first record altered, dropped, duplicated, reordered or added. Exit 1 if any."""
    try:
        checked = check(Settings(), Target.parse(location))
    except (BadManifest, ExportStoreError, OSError) as error:
        raise click.ClickException(f"cannot read the export: {error}") from None
    verdict, manifest = checked.verdict, checked.manifest
    problem = (
        f"record {verdict.finding.position} {verdict.finding.kind}: {verdict.finding.detail}"
        if verdict.finding is not None
        else None
    )
    if problem is None and head is not None and head != manifest.head:
        problem = f"the manifest's head {manifest.head} is not the head given ({head})"
    if fmt == "json":
        click.echo(json.dumps({
            "ok": problem is None, "problem": problem, "records": verdict.records,
            "head": verdict.head, "manifest": manifest.__dict__, "notes": checked.notes,
        }))  # fmt: skip
    else:
        for note in checked.notes:
            click.echo(note)
        scope = (
            f"{manifest.conversation}, {manifest.topic} partition {manifest.partition}, "
            f"offsets {manifest.from_offset} to {manifest.to_offset}"
        )
        if problem is None:
            click.echo(f"OK: {verdict.records:,} records ({scope}) chain to head {verdict.head}")
        else:
            click.echo(f"FAILED: {problem} ({scope}; manifest: {manifest.events:,} records)")
    sys.exit(0 if problem is None else 1)
