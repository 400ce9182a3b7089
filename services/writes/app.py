"""Composition of the write side (the ingress servicers and the media server share it): the
write model restored and following the log, the producer, the archives, the send flow, from
settings, over the real adapters (Kafka, Cassandra, JWT, Aho-Corasick, the gRPC pre-send
hook)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from parley.adapters.ahocorasick import matcher_from_file
from parley.adapters.cassandra import connect_configured
from parley.adapters.cassandra_media_archive import CassandraMediaArchive
from parley.adapters.cassandra_message_archive import CassandraMessageArchive
from parley.adapters.grpc_send_hook import GrpcSendHook
from parley.adapters.kafka import KafkaEventFeed, KafkaEventLog
from parley.adapters.kafka_feed import close_together
from parley.adapters.memory_media_archive import InMemoryMediaArchive
from parley.adapters.tokens import TokenAuthority
from parley.checkpointing import restore_with_settings
from parley.config import Settings
from parley.domain.conversations import ConversationType
from parley.domain.events import Logged, MessageType
from parley.domain.limits import Limits
from parley.domain.moderation import Interceptor, SensitiveWordFilter, build_interceptor_chain
from parley.domain.rate_limit import RateLimiter
from parley.domain.read_your_writes import WrittenPositions
from parley.domain.send_hook import SendHookPolicy, SendHookRule
from parley.domain.sending import SendDecider
from parley.domain.write_model import WRITE_MODEL_FOLD, WriteModel
from parley.media_lookup import MediaLookup
from parley.message_lookup import MessageLookup
from parley.ports import (
    EventFeed,
    EventLog,
    LoggedSink,
    MediaArchive,
    MessageArchive,
    SendHook,
)
from services.shell.auth import Authenticator
from services.writes.context import IngressContext
from services.writes.send_hook import SendHookStep
from services.writes.sends import SendFlow
from services.writes.writer import EventWriter

# How long start-up may take to fold the existing log into the write model.
CATCH_UP_TIMEOUT_S = 600.0


class Tee:
    """One LoggedSink that hands each logged event to several, in order."""

    def __init__(self, *sinks: LoggedSink) -> None:
        self._sinks = sinks

    def apply(self, logged: Logged) -> None:
        for sink in self._sinks:
            sink.apply(logged)


@dataclass
class WriteParts:
    context: IngressContext
    authenticator: Authenticator
    positions: WrittenPositions  # what this process wrote and followed: reads see own writes
    session: Any  # the Cassandra session (bound to the read-model keyspace)


def limits_of(settings: Settings) -> Limits:
    return Limits(
        recall_window_ms=settings.recall_window_s * 1000,
        rate_per_second=settings.rate_per_second,
    )


def word_filter_of(settings: Settings) -> SensitiveWordFilter | None:
    if settings.sensitive_words_file is None:
        return None
    return SensitiveWordFilter(
        matcher_from_file(settings.sensitive_words_file), settings.sensitive_word_mode
    )


def send_hook_step_of(settings: Settings, hook: SendHook, limits: Limits) -> SendHookStep:
    """The pre-send hook with the rule and policy the settings give it."""
    rule = SendHookRule(
        frozenset(ConversationType[n.upper()] for n in settings.send_hook_conversation_types),
        frozenset(MessageType[n.upper()] for n in settings.send_hook_message_types),
    )
    return SendHookStep(hook, rule, SendHookPolicy(settings.send_hook_policy), limits)


def send_hook_of(settings: Settings) -> SendHook | None:
    """The gRPC client of the hook the settings name (call it in the event loop that uses it)."""
    if not settings.send_hook_target:
        return None
    timeout_s = settings.send_hook_timeout_ms / 1000
    return GrpcSendHook(settings.send_hook_target, timeout_s, tls=settings.send_hook_tls)


def assemble(
    settings: Settings,
    model: WriteModel,
    event_log: EventLog,
    feed: EventFeed,
    interceptors: Sequence[Interceptor] = (),
    positions: WrittenPositions | None = None,
    media_archive: MediaArchive | None = None,
    message_archive: MessageArchive | None = None,
    session: Any = None,
    send_hook: SendHook | None = None,
) -> WriteParts:
    """The write side over any event log and feed (Kafka here, the in-memory fakes in unit tests).

    `feed` must already follow the log into `model` (and into `positions`, when given);
    `media_archive` holds the media older than the model's window (none: an empty fake);
    `send_hook`: the operator's pre-send hook, seeing the sends the settings say."""
    limits = limits_of(settings)
    decider = SendDecider(
        model,
        limits,
        RateLimiter(limits.rate_per_second),
        build_interceptor_chain(word_filter_of(settings), interceptors),
    )
    writer = EventWriter(event_log, feed, positions=positions)
    tokens = TokenAuthority(settings.token_secret, default_ttl_s=settings.token_ttl_s)
    archive = media_archive if media_archive is not None else InMemoryMediaArchive()
    media = MediaLookup(archive, model.media)
    hook = send_hook_step_of(settings, send_hook, limits) if send_hook is not None else None
    sends = SendFlow(
        decider, writer, media, model.sends, MessageLookup(message_archive, model), hook=hook
    )
    context = IngressContext(
        model, limits, writer, sends, tokens, media, message_archive=message_archive
    )
    authenticator = Authenticator(tokens, settings.admin_secret)
    return WriteParts(context, authenticator, positions or WrittenPositions(), session)


@contextlib.asynccontextmanager
async def write_side(
    settings: Settings, interceptors: Sequence[Interceptor] = ()
) -> AsyncIterator[WriteParts]:
    """Restores the write model from its newest usable checkpoint, follows the log from there,
    connects the producer and yields the wiring; the archives are read from Cassandra for
    messages and media older than the write model's windows."""
    cluster, session = await asyncio.to_thread(connect_configured, settings)
    windows = settings.fold_windows()
    restored, start_at = await restore_with_settings(
        settings, WRITE_MODEL_FOLD, partial(WriteModel.from_document, windows=windows), session
    )
    model = restored or WriteModel(windows=windows)
    positions = WrittenPositions()
    feed = KafkaEventFeed(
        settings.kafka_bootstrap,
        Tee(model, positions),
        (settings.topic_conversation_events,),
        start_at=start_at,
    )
    event_log = KafkaEventLog(
        settings.kafka_bootstrap,
        settings.topics(),
        message_timeout_ms=settings.kafka_message_timeout_ms,
    )
    send_hook = send_hook_of(settings)
    try:
        await feed.start()
        await feed.wait_caught_up(CATCH_UP_TIMEOUT_S)
        await event_log.start()
        yield assemble(
            settings,
            model,
            event_log,
            feed,
            interceptors,
            positions,
            CassandraMediaArchive(session),
            message_archive=CassandraMessageArchive(session),
            session=session,
            send_hook=send_hook,
        )
    finally:
        if send_hook is not None:
            await send_hook.close()
        await close_together(event_log.close(), feed.close())
        await asyncio.to_thread(cluster.shutdown)
