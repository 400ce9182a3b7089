"""`parley audit`: answers to an auditor's questions from the log (trail, state, export, verify)
and a row-by-row comparison of two keyspaces (diff)."""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Iterator
from typing import Any

import click

from parley.adapters.wire_audit import record_json
from parley.audit import open_log, state_at, trail
from parley.commands.audit_diff import diff
from parley.commands.audit_export import export, verify
from parley.config import Settings
from parley.domain.audit_bounds import (
    BadBound,
    Bound,
    OffsetBound,
    TimeBound,
    format_time,
    parse_bound,
)
from parley.domain.audit_records import text_line, to_json
from parley.domain.audit_state import ConversationMoment, HistoryEntry, MemberStanding


class BoundType(click.ParamType):
    name = "TIME|OFFSET"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, (OffsetBound, TimeBound)):
            return value
        try:
            return parse_bound(str(value))
        except BadBound as error:
            self.fail(str(error), param, ctx)


BOUND = BoundType()
conversation_option = click.option(
    "--conversation", "key", required=True, help="Conversation key: p:<low>:<high>, g:<id>, r:<id>."
)
partition_option = click.option(
    "--partition",
    type=int,
    default=None,
    help="Read this partition instead of the key's (a log written with another partitioner).",
)


@click.group("audit")
def audit() -> None:
    """Audit a conversation from the log, export it tamper-evidently, compare keyspaces."""


@audit.command("trail")
@conversation_option
@click.option("--from", "start", type=BOUND, default=None, help="First offset or time (inclusive).")
@click.option(
    "--to", "--until", "end", type=BOUND, default=None, help="Last offset or time (inclusive)."
)
@click.option("--format", "fmt", type=click.Choice(["text", "jsonl"]), default="text")
@partition_option
def trail_command(
    key: str, start: Bound | None, end: Bound | None, fmt: str, partition: int | None
) -> None:
    """Every event of one conversation in log order, with partition and offset; a recalled
    message's content is shown, its recall after it."""
    out = sys.stdout
    count = 0
    with open_log(Settings()) as log:
        lines: Iterator[str]
        found = trail(log, key, start, end, partition)
        span = found.span
        if fmt == "text":
            lines = (text_line(logged) for logged, _ in found.events())
        else:
            lines = (record_json(record).decode() for record in found.records())
        note = (
            f"# {key}: {span.topic} partition {span.partition}, offsets {span.start} to "
            f"{span.end - 1} (the partition holds {span.low} to {span.high - 1})"
        )
        if fmt == "text":
            out.write(note + "\n")
        for line in lines:
            count += 1
            out.write(line + "\n")
    summary = f"# {count} events"
    if fmt == "text":
        out.write(summary + "\n")
    else:
        click.echo(f"{note}\n{summary}", err=True)


@audit.command("state")
@conversation_option
@click.option("--at", "at", type=BOUND, required=True, help="Offset or time of the moment.")
@click.option("--limit", type=click.IntRange(1, 1000), default=20, help="History page size.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@partition_option
def state_command(key: str, at: Bound, limit: int, fmt: str, partition: int | None) -> None:
    """The conversation's history page and each member's unread count, mentions and read
    position as the read models held them at a moment (the projector's reducer over the log)."""
    with open_log(Settings()) as log:
        span, moment = state_at(log, key, at, limit, partition)
    if fmt == "json":
        document = {"partition": span.partition, "through_offset": span.end - 1,
                    **dataclasses.asdict(moment)}  # fmt: skip
        click.echo(json.dumps(document, ensure_ascii=False))
        return
    click.echo(f"{key} as of partition {span.partition} offset {span.end - 1}")
    for line in describe_moment(moment):
        click.echo(line)


def describe_moment(moment: ConversationMoment) -> list[str]:
    if moment.events == 0:
        return ["no event of this conversation yet"]
    title = f' "{moment.title}"' if moment.title else ""
    lines = [
        f"{moment.type}{title}: last seq {moment.last_seq}, {moment.events} events folded "
        f"(the last at offset {moment.last_offset})" + (", dismissed" if moment.dismissed else ""),
        f"history (newest {len(moment.history)}):",
        *(f"  {_history_line(entry)}" for entry in moment.history),
        "members:",
        *(f"  {_member_line(member)}" for member in moment.members),
    ]
    return lines


def _history_line(h: HistoryEntry) -> str:
    head = f"#{h.seq} {format_time(h.sent_at_ms)} {h.sender_id} {h.message_type} {h.message_id}"
    if h.recalled:
        when = format_time(h.recalled_at_ms)
        withheld = "(content withheld)"
        return f"{head} RECALLED by {h.recalled_by} at {when} {withheld} [offset {h.event_offset}]"
    content = dict(h.content or {})
    content.pop("type", None)
    body = json.dumps(content["text"], ensure_ascii=False) if "text" in content else None
    return f"{head} {body or to_json(content)} [offset {h.event_offset}]"


def _member_line(m: MemberStanding) -> str:
    status = "member" if m.is_member else f"left after seq {m.until_seq}"
    unread = "-" if m.unread is None else str(m.unread)
    mentions = ",".join(str(q) for q in m.mentions) or "-"
    extras = (" hidden" if m.hidden else "") + (
        f" cleared through {m.cleared_through_seq}" if m.cleared_through_seq else ""
    )
    return (
        f"{m.user_id}: {status}, read {m.read_seq}, unread {unread}, mentions {mentions}, "
        f"delivered {m.delivered_seq}, joined at {m.joined_seq}{extras}"
    )


audit.add_command(export)
audit.add_command(verify)
audit.add_command(diff)
