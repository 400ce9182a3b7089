"""Audits of one conversation from the log: its trail between two bounds, and its read models as
of a moment (the projector's reducer folded over its events up to then)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from parley.adapters.kafka_audit import ConversationSpan, KafkaConversationLog
from parley.config import Settings
from parley.domain.audit_bounds import Bound
from parley.domain.audit_records import Plain
from parley.domain.audit_state import HISTORY_PAGE, AuditFold, ConversationMoment
from parley.domain.events import Logged


@dataclass(frozen=True)
class Trail:
    """A conversation's events between two bounds; each reading goes through the log again."""

    log: KafkaConversationLog
    key: str
    span: ConversationSpan

    def events(self) -> Iterator[tuple[Logged, int]]:
        """(event, the log's timestamp, ms), in log order."""
        return self.log.read(self.key, self.span)

    def records(self) -> Iterator[Plain]:
        """The audit records (what JSONL trails and exports carry), in log order; built from
        the wire form, without decoding domain events."""
        return self.log.records(self.key, self.span)


def open_log(settings: Settings) -> KafkaConversationLog:
    return KafkaConversationLog(settings.kafka_bootstrap, settings.topic_conversation_events)


def trail(
    log: KafkaConversationLog,
    key: str,
    start: Bound | None = None,
    end: Bound | None = None,
    partition: int | None = None,
) -> Trail:
    """Every event of the conversation from `start` to `end` (inclusive), in log order."""
    return Trail(log, key, log.span(key, start, end, partition))


def state_at(
    log: KafkaConversationLog,
    key: str,
    at: Bound | None,
    page: int = HISTORY_PAGE,
    partition: int | None = None,
) -> tuple[ConversationSpan, ConversationMoment]:
    """The conversation's read models once every event up to `at` was projected."""
    found = trail(log, key, None, at, partition)
    fold = AuditFold(key)
    for logged, _ in found.events():
        fold.apply(logged)
    return found.span, fold.moment(page)
