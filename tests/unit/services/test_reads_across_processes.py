"""A process's write model lags what other processes appended; a rejection that may only mean
that lag (parley.domain.errors.MAY_BE_STALE) is decided once more after catching up.

The feed here is a test double of the EventFeed port that hands events over only when asked
(`wait_for` its own writes, or `catch_up`), so the lag of a real follower is deterministic."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass

import grpc
import pytest

from parley.adapters.memory import InMemoryEventLog
from parley.domain.commands import Stamp
from parley.domain.events import ImageContent, Logged, MediaRef, Position
from parley.domain.groups import GroupChange, decide_create_group
from parley.domain.limits import Limits
from parley.domain.log_streams import Stream
from parley.domain.media_uploads import decide_media_uploaded, object_id_from
from parley.domain.rooms import decide_create_room
from parley.domain.write_model import WriteModel
from parley.gen.parley.v1 import common_pb2, ingress_pb2, ingress_pb2_grpc
from tests.unit.services.ingress_harness import Auth, serving, text_to


class LaggingFeed:
    """Receives every append at once but hands it to the model only when asked."""

    def __init__(self, log: InMemoryEventLog, model: WriteModel) -> None:
        self._model = model
        self.held: list[Logged] = []
        self.catch_ups = 0
        log.subscribe(self, [log.topic_of(Stream.CONVERSATION_EVENTS)])

    def apply(self, logged: Logged) -> None:
        self.held.append(logged)

    def _hand_over(self) -> None:
        for logged in self.held:
            self._model.apply(logged)
        self.held.clear()

    async def wait_for(self, position: Position, timeout_s: float) -> None:
        self._hand_over()

    async def catch_up(self, timeout_s: float) -> None:
        self.catch_ups += 1
        self._hand_over()

    async def close(self) -> None:
        return None


@dataclass
class Process:
    feed: LaggingFeed
    messaging: ingress_pb2_grpc.MessagingServiceStub
    rooms: ingress_pb2_grpc.RoomServiceStub
    auth: Auth


@pytest.fixture
async def ingress_process() -> AsyncIterator[tuple[InMemoryEventLog, Process]]:
    async with serving(InMemoryEventLog(), LaggingFeed) as served:
        assert isinstance(served.feed, LaggingFeed)
        yield (
            served.log,
            Process(
                served.feed,
                ingress_pb2_grpc.MessagingServiceStub(served.channel),
                ingress_pb2_grpc.RoomServiceStub(served.channel),
                await served.token("alice"),
            ),
        )


def image_to_bob(cmid: str, object_id: str) -> ingress_pb2.SendMessageRequest:
    request = text_to("bob", cmid)
    request.body.Clear()
    request.body.image.media.object_id = object_id
    return request


async def sent_after_one_catch_up(
    process: Process, request: ingress_pb2.SendMessageRequest
) -> None:
    """`request` is accepted, the process having caught up with the log once to find what the
    send refers to."""
    reply = await process.messaging.SendMessage(request, metadata=process.auth)
    assert reply.message_id and process.feed.catch_ups == 1


async def not_found_after_one_catch_up(
    process: Process, call: Awaitable[object]
) -> grpc.aio.AioRpcError:
    """`call` is refused with NOT_FOUND, the process having caught up with the log once."""
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    assert caught.value.code() is grpc.StatusCode.NOT_FOUND
    assert process.feed.catch_ups == 1
    return caught.value


async def test_send__an_upload_registered_by_another_process_is_found_after_catching_up(
    ingress_process: tuple[InMemoryEventLog, Process],
) -> None:
    log, process = ingress_process
    # The media server (another process) registers alice's upload on the shared log.
    object_id = object_id_from(bytes(range(16)))
    content = ImageContent(MediaRef(object_id, file_name="a.png", size_bytes=10), 4, 3)
    await log.append(decide_media_uploaded("alice", content, Stamp(int(time.time() * 1000), "e1")))
    assert process.feed.held  # this process has not folded it yet
    await sent_after_one_catch_up(process, image_to_bob("c1", object_id))


async def test_send__an_unknown_upload_is_still_refused_after_catching_up(
    ingress_process: tuple[InMemoryEventLog, Process],
) -> None:
    _, process = ingress_process
    request = image_to_bob("c1", object_id_from(bytes(16)))
    await not_found_after_one_catch_up(
        process, process.messaging.SendMessage(request, metadata=process.auth)
    )


async def test_send__a_text_send_needs_no_catching_up(
    ingress_process: tuple[InMemoryEventLog, Process],
) -> None:
    _, process = ingress_process
    await process.messaging.SendMessage(text_to("bob", "c2"), metadata=process.auth)
    assert process.feed.catch_ups == 0


def _conversation_records(log: InMemoryEventLog) -> list[Logged]:
    return log.records(log.topic_of(Stream.CONVERSATION_EVENTS))


def _stamp(event_id: str) -> Stamp:
    return Stamp(int(time.time() * 1000), event_id)


async def test_enter_room__a_room_created_through_another_worker_is_found_after_catching_up(
    ingress_process: tuple[InMemoryEventLog, Process],
) -> None:
    log, process = ingress_process
    # Another ingress worker (its own model) answered bob's CreateRoom an instant ago.
    await log.append(decide_create_room("bob", "r1", "lobby", WriteModel(), Limits(), _stamp("e1")))
    reply = await process.rooms.EnterRoom(
        ingress_pb2.RoomRequest(room_id="r1"), metadata=process.auth
    )
    assert reply.room_id == "r1" and process.feed.catch_ups == 1
    assert type(_conversation_records(log)[-1].event.payload).__name__ == "RoomEntered"


async def test_send__into_a_group_created_through_another_worker_after_catching_up(
    ingress_process: tuple[InMemoryEventLog, Process],
) -> None:
    log, process = ingress_process
    created = decide_create_group(
        GroupChange("bob", "g1", WriteModel(), _stamp("e1")), "team", ["alice"], Limits()
    )
    await log.append(created)
    request = text_to("bob", "c3")
    request.conversation.type = common_pb2.CONVERSATION_TYPE_GROUP
    request.conversation.id = "g1"
    await sent_after_one_catch_up(process, request)


async def test_enter_room__an_unknown_room_is_still_refused_after_one_catch_up(
    ingress_process: tuple[InMemoryEventLog, Process],
) -> None:
    log, process = ingress_process
    request = ingress_pb2.RoomRequest(room_id="nowhere")
    error = await not_found_after_one_catch_up(
        process, process.rooms.EnterRoom(request, metadata=process.auth)
    )
    assert dict(error.trailing_metadata() or ())["parley-reason-code"] == "4007"
    assert not _conversation_records(log)


async def test_send__a_rejection_no_lag_explains_does_not_catch_up(
    ingress_process: tuple[InMemoryEventLog, Process],
) -> None:
    _, process = ingress_process
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await process.messaging.SendMessage(text_to("alice", "c4"), metadata=process.auth)
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT  # SEND_TO_SELF
    assert process.feed.catch_ups == 0
