"""Composition root of the ingress: the real adapters (Kafka, JWT, Aho-Corasick) from settings."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from functools import partial

from parley.adapters.ahocorasick import matcher_from_file
from parley.adapters.cassandra import connect
from parley.adapters.cassandra_media_archive import CassandraMediaArchive
from parley.adapters.cassandra_message_archive import CassandraMessageArchive
from parley.adapters.kafka import KafkaEventFeed, KafkaEventLog
from parley.adapters.memory_media_archive import InMemoryMediaArchive
from parley.adapters.tokens import TokenAuthority
from parley.checkpointing import restore_with_settings
from parley.config import Settings
from parley.domain.events import Logged
from parley.domain.limits import Limits
from parley.domain.moderation import Interceptor, SensitiveWordFilter, build_interceptor_chain
from parley.domain.rate_limit import RateLimiter
from parley.domain.read_your_writes import WrittenPositions
from parley.domain.sending import SendDecider
from parley.domain.streams import Stream
from parley.domain.write_model import WRITE_MODEL_FOLD, WriteModel
from parley.media_lookup import MediaLookup
from parley.message_lookup import MessageLookup
from parley.ports import EventFeed, EventLog, LoggedSink, MediaArchive, MessageArchive
from services.ingress.auth import Authenticator
from services.ingress.context import IngressContext
from services.ingress.sends import SendFlow
from services.ingress.server import Mount
from services.ingress.writer import EventWriter
from services.media.app import media_deps
from services.media.mount import add_media_services
from services.media.uploads import MediaDeps
from services.query.mount import add_query_services, query_deps

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
class IngressParts:
    context: IngressContext
    authenticator: Authenticator
    mounts: list[Mount]
    media: MediaDeps | None = None


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


def assemble(
    settings: Settings,
    model: WriteModel,
    event_log: EventLog,
    feed: EventFeed,
    interceptors: Sequence[Interceptor] = (),
    positions: WrittenPositions | None = None,
    media_archive: MediaArchive | None = None,
    message_archive: MessageArchive | None = None,
) -> IngressParts:
    """The ingress over any event log and feed (Kafka here, the in-memory fakes in unit tests).

    `feed` must already follow the log into `model` (and into `positions`, when given);
    `media_archive` holds the media older than the model's window (none: an empty fake)."""
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
    sends = SendFlow(decider, writer, media, messages=MessageLookup(message_archive, model))
    context = IngressContext(
        model, limits, writer, sends, tokens, media, message_archive=message_archive
    )
    return IngressParts(context, Authenticator(tokens, settings.admin_secret), [])


@contextlib.asynccontextmanager
async def ingress_parts(
    settings: Settings,
    interceptors: Sequence[Interceptor] = (),
    media_prefix: str = "",
    *,
    read_api: bool = True,
) -> AsyncIterator[IngressParts]:
    """Follows the log into a fresh write model, connects the producer, yields the wiring with
    MediaService mounted (`media_prefix` namespaces the media bucket) and, with `read_api`, the
    read API over Cassandra (the media server serves no reads). Both read the media archive in
    Cassandra for media older than the write model's window."""
    topics = {
        Stream.CONVERSATION_EVENTS: settings.topic_conversation_events,
        Stream.SIGNALS: settings.topic_signals,
        Stream.BROADCASTS: settings.topic_broadcasts,
        Stream.USER_UPDATES: settings.topic_user_updates,
    }
    cluster, session = await asyncio.to_thread(
        connect, settings.cassandra_hosts, settings.cassandra_port, settings.cassandra_keyspace
    )
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
        settings.kafka_bootstrap, topics, message_timeout_ms=settings.kafka_message_timeout_ms
    )
    try:
        await feed.start()
        await feed.wait_caught_up(CATCH_UP_TIMEOUT_S)
        await event_log.start()
        archive = CassandraMediaArchive(session)
        parts = assemble(
            settings,
            model,
            event_log,
            feed,
            interceptors,
            positions,
            archive,
            message_archive=CassandraMessageArchive(session),
        )
        if read_api:
            query = query_deps(
                session,
                positions,
                settings.topic_conversation_events,
                settings.read_your_writes_timeout_s,
            )
            parts.mounts.append(lambda server: add_query_services(server, query))
        media = parts.media = media_deps(parts.context, settings, media_prefix)
        parts.mounts.append(lambda server: add_media_services(server, media))
        yield parts
    finally:
        await event_log.close()
        await feed.close()
        await asyncio.to_thread(cluster.shutdown)
