"""Keyword alert: prints a JSON line for every stored text message containing a watched word.

Runs against `make run` (settings from PARLEY_* like every Parley process):

    python -m examples.keyword_alert --keyword refund --keyword urgent

It reads the conversation events as consumer group `--group`, from where the group left off (a
new group from the present end, or the whole log with `--new-group-from earliest`), so a restart
neither repeats nor misses an alert; SIGTERM or Ctrl-C stops it after the batch in hand is
committed. Duplicates of an event (at least once) are dropped by event id.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections import OrderedDict
from dataclasses import dataclass, field

from parley.config import Settings
from parley.domain.events import MessageSent, TextContent
from parley.integration import Delivered, EventConsumer, StartAt

# Duplicates arrive close together (a producer retry, a replayed batch): remembering the last
# ids is enough, and keeps memory flat on an endless log.
REMEMBERED_IDS = 100_000


@dataclass
class KeywordAlert:
    keywords: tuple[str, ...]
    seen: OrderedDict[str, None] = field(default_factory=OrderedDict)

    def alert_for(self, delivered: Delivered) -> dict[str, str] | None:
        event = delivered.event
        payload = event.payload
        if not isinstance(payload, MessageSent) or not isinstance(payload.content, TextContent):
            return None
        if event.event_id in self.seen:
            return None
        self.seen[event.event_id] = None
        if len(self.seen) > REMEMBERED_IDS:
            self.seen.popitem(last=False)
        text = payload.content.text
        hit = next((word for word in self.keywords if word.lower() in text.lower()), None)
        if hit is None:
            return None
        return {
            "event_id": event.event_id,
            "conversation_key": event.conversation_key,
            "sender": event.actor,
            "keyword": hit,
            "text": text,
        }


async def serve(
    keywords: tuple[str, ...], group: str, settings: Settings, new_group_from: str = "latest"
) -> None:
    alerts = KeywordAlert(keywords)

    async def handle(delivered: Delivered) -> None:
        if (alert := alerts.alert_for(delivered)) is not None:
            # The alert is out before the handler returns, so before its offset is committed.
            sys.stdout.write(json.dumps(alert) + "\n")
            sys.stdout.flush()

    consumer = EventConsumer(
        settings.kafka_bootstrap,
        group,
        [settings.topic_conversation_events],
        StartAt.committed(fallback="earliest" if new_group_from == "earliest" else "latest"),
    )
    await consumer.run(handle)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keyword", action="append", required=True, help="word to watch")
    parser.add_argument("--group", default="example-keyword-alert", help="consumer group")
    parser.add_argument(
        "--new-group-from",
        choices=["latest", "earliest"],
        default="latest",
        help="where a group with no committed offset starts (earliest: the whole log)",
    )
    args = parser.parse_args()
    asyncio.run(serve(tuple(args.keyword), args.group, Settings(), args.new_group_from))


if __name__ == "__main__":
    main()
