"""Test harness: a real ingress (in-process gRPC server on port 0) over real Kafka."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeAlias, cast

import grpc
from kafka import KafkaConsumer, TopicPartition

from parley.adapters.wire import decode_event
from parley.config import Settings
from parley.domain.events import Event
from parley.gen.parley.v1 import common_pb2, ingress_pb2, ingress_pb2_grpc, media_pb2_grpc
from services.media.uploads import MediaDeps
from services.shell.server import RunningServer

PEER, ROOM, GROUP = (
    common_pb2.CONVERSATION_TYPE_PEER,
    common_pb2.CONVERSATION_TYPE_ROOM,
    common_pb2.CONVERSATION_TYPE_GROUP,
)
ConversationTypeValue: TypeAlias = common_pb2.ConversationType.ValueType


@dataclass
class Topics:
    conversation_events: str
    signals: str
    broadcasts: str
    user_updates: str

    def all(self) -> list[str]:
        return [self.conversation_events, self.signals, self.broadcasts, self.user_updates]


def read_topic(bootstrap: str, topic: str) -> list[tuple[int, int, bytes, Event]]:
    """Every record of a topic as (partition, offset, key, event), ordered per partition."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        ends = consumer.end_offsets(partitions)
        records: list[tuple[int, int, bytes, Event]] = []
        while any(consumer.position(tp) < ends[tp] for tp in partitions):
            for batch in consumer.poll(timeout_ms=500).values():
                records.extend((r.partition, r.offset, r.key, decode_event(r.value)) for r in batch)
        return sorted(records, key=lambda r: (r[0], r[1]))
    finally:
        consumer.close()


@dataclass
class Client:
    """Stubs that carry one user's token."""

    channel: grpc.aio.Channel
    token: str
    messaging: ingress_pb2_grpc.MessagingServiceStub = field(init=False)
    groups: ingress_pb2_grpc.GroupServiceStub = field(init=False)
    rooms: ingress_pb2_grpc.RoomServiceStub = field(init=False)
    contacts: ingress_pb2_grpc.ContactServiceStub = field(init=False)
    media: media_pb2_grpc.MediaServiceStub = field(init=False)

    def __post_init__(self) -> None:
        self.media = media_pb2_grpc.MediaServiceStub(self.channel)
        self.messaging = ingress_pb2_grpc.MessagingServiceStub(self.channel)
        self.groups = ingress_pb2_grpc.GroupServiceStub(self.channel)
        self.rooms = ingress_pb2_grpc.RoomServiceStub(self.channel)
        self.contacts = ingress_pb2_grpc.ContactServiceStub(self.channel)

    @property
    def auth(self) -> tuple[tuple[str, str]]:
        return (("authorization", f"Bearer {self.token}"),)

    async def send(
        self,
        type_: ConversationTypeValue,
        target: str,
        text: str = "hi",
        cmid: str | None = None,
        deadline_s: float | None = None,
        **fields: Any,
    ) -> ingress_pb2.SendMessageResponse:
        """`deadline_s`: the call's deadline, as a client sets it (none by default)."""
        body = fields.pop("body", None) or common_pb2.MessageBody(
            text=common_pb2.TextContent(text=text)
        )
        request = ingress_pb2.SendMessageRequest(
            conversation=common_pb2.ConversationRef(type=type_, id=target),
            client_message_id=uuid.uuid4().hex if cmid is None else cmid,
            body=body,
            **fields,
        )
        reply = await self.messaging.SendMessage(request, metadata=self.auth, timeout=deadline_s)
        return cast(ingress_pb2.SendMessageResponse, reply)


@dataclass
class Ingress:
    running: RunningServer
    settings: Settings
    topics: Topics
    channel: grpc.aio.Channel
    admin: ingress_pb2_grpc.AdminServiceStub
    media: MediaDeps | None = None  # set when MediaService is mounted

    @property
    def admin_auth(self) -> tuple[tuple[str, str]]:
        return (("authorization", f"Bearer {self.settings.admin_secret}"),)

    async def client(self, user_id: str, ttl_s: int = 0) -> Client:
        reply = await self.admin.IssueToken(
            ingress_pb2.IssueTokenRequest(user_id=user_id, ttl_s=ttl_s), metadata=self.admin_auth
        )
        return Client(self.channel, reply.token)

    def events(self, topic: str | None = None) -> list[tuple[int, int, bytes, Event]]:
        return read_topic(self.settings.kafka_bootstrap, topic or self.topics.conversation_events)


IngressFactory = Callable[..., Any]
