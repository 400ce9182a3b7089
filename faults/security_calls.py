"""The security suite's plumbing: every RPC from the generated descriptors, one call of it with
given credentials, what it answered, and whether that answer is the documented one."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import grpc
from google.protobuf import message_factory
from google.protobuf.descriptor import MethodDescriptor
from google.protobuf.message import Message
from google.rpc import error_details_pb2, status_pb2

from parley.adapters.kafka_feed import open_consumer, watermarks
from parley.domain.errors import REASONS, Reason
from parley.gen.parley.v1 import delivery_pb2, ingress_pb2, media_pb2, query_pb2

CALL_TIMEOUT_S = 10.0
STREAM_READ_S = 3.0  # how long a stream that was accepted is read before the suite hangs up
ADMIN_SERVICE = "parley.v1.AdminService"
DELIVERY_SERVICE = "parley.v1.DeliveryService"
MEDIA_SERVICE = "parley.v1.MediaService"
_FILES = (ingress_pb2, query_pb2, media_pb2, delivery_pb2)


@dataclass(frozen=True)
class Rpc:
    """One method of one service, with where it is served."""

    service: str
    name: str
    method: MethodDescriptor

    @property
    def path(self) -> str:
        return f"/{self.service}/{self.name}"

    @property
    def is_admin(self) -> bool:
        return self.service == ADMIN_SERVICE

    def request_class(self) -> type[Message]:
        return message_factory.GetMessageClass(self.method.input_type)

    def response_class(self) -> type[Message]:
        return message_factory.GetMessageClass(self.method.output_type)


def every_rpc() -> list[Rpc]:
    """Every RPC of every service in parley/gen: a new one is covered without touching the suite."""
    return [
        Rpc(service.full_name, method.name, method)
        for module in _FILES
        for service in module.DESCRIPTOR.services_by_name.values()
        for method in service.methods
    ]


@dataclass(frozen=True)
class Answer:
    """What a call ended with: its status, the reason code it carried (if any), and the
    responses read before it ended."""

    code: grpc.StatusCode
    reason: int | None = None
    reason_name: str = ""
    responses: tuple[Message, ...] = ()
    details: str = ""

    def is_documented_rejection(self) -> bool:
        """A non-OK status carrying a Reason in both places, whose gRPC status is the one
        docs/reason-codes.md gives it."""
        if self.reason is None or self.reason not in Reason._value2member_map_:
            return False
        reason = Reason(self.reason)
        return self.reason_name == reason.name and self.code.name == REASONS[reason].status

    def describe(self) -> str:
        return f"{self.code.name} {self.reason or '-'} {self.details[:120]!r}"


def answer_of(error: grpc.RpcError, responses: Sequence[Message] = ()) -> Answer:
    trailers = dict(error.trailing_metadata() or ())
    info = error_details_pb2.ErrorInfo()
    packed = trailers.get("grpc-status-details-bin")
    for detail in status_pb2.Status.FromString(packed).details if packed else ():
        if detail.Is(info.DESCRIPTOR):
            detail.Unpack(info)
    code_text = str(trailers.get("parley-reason-code", ""))
    reason = int(code_text) if code_text.isdigit() else None
    return Answer(error.code(), reason, info.reason, tuple(responses), error.details() or "")


def metadata_of(bearer: str | None) -> tuple[tuple[str, str], ...]:
    return () if bearer is None else (("authorization", f"Bearer {bearer}"),)


class Caller:
    """Calls RPCs of the three servers with any credentials; one channel per server."""

    def __init__(self, ingress: str, delivery: str, media: str) -> None:
        options = [("grpc.max_send_message_length", 64 * 1024 * 1024)]
        self._channels = {
            name: grpc.insecure_channel(target, options=options)
            for name, target in (("ingress", ingress), ("delivery", delivery), ("media", media))
        }

    def channel_for(self, rpc: Rpc) -> grpc.Channel:
        if rpc.service == DELIVERY_SERVICE:
            return self._channels["delivery"]
        if rpc.service == MEDIA_SERVICE:
            return self._channels["media"]
        return self._channels["ingress"]

    def call(
        self,
        rpc: Rpc,
        request: Message | bytes | Sequence[Message | bytes],
        bearer: str | None,
        metadata: tuple[tuple[str, str], ...] = (),
        until: Callable[[list[Message]], bool] | None = None,
    ) -> Answer:
        """One call of `rpc`; a streaming request sends `request` (a message or a list of
        them), a streaming answer is read for at most STREAM_READ_S, or until `until` holds of
        the answers read. Bytes go out unserialized. A session (Connect) stays open while its
        answers are read, as a client's does."""
        requests: list[Any] = list(request) if isinstance(request, list | tuple) else [request]
        method = self._method(rpc)
        call_metadata = metadata_of(bearer) + metadata
        done = threading.Event()
        try:
            outgoing: Any = requests[0]
            if rpc.method.client_streaming:
                outgoing = _outgoing(requests, done if rpc.service == DELIVERY_SERVICE else None)
            timeout = STREAM_READ_S if rpc.method.server_streaming else CALL_TIMEOUT_S
            answer = method(outgoing, metadata=call_metadata, timeout=timeout)
            if not rpc.method.server_streaming:
                return Answer(grpc.StatusCode.OK, responses=(answer,))
            return _read_stream(answer, until)
        except grpc.RpcError as error:
            return answer_of(error)
        finally:
            done.set()

    def _method(self, rpc: Rpc) -> Callable[..., Any]:
        channel = self.channel_for(rpc)
        kinds = {
            (False, False): channel.unary_unary,
            (True, False): channel.stream_unary,
            (False, True): channel.unary_stream,
            (True, True): channel.stream_stream,
        }
        make = kinds[(rpc.method.client_streaming, rpc.method.server_streaming)]
        method: Callable[..., Any] = make(
            rpc.path,
            request_serializer=_serialize,
            response_deserializer=rpc.response_class().FromString,
        )
        return method

    def close(self) -> None:
        for channel in self._channels.values():
            channel.close()


def _serialize(message: Message | bytes) -> bytes:
    return message if isinstance(message, bytes) else message.SerializeToString()


def _outgoing(
    requests: list[Message | bytes], hold: threading.Event | None
) -> Iterator[Message | bytes]:
    """The requests of a streaming call; with `hold`, the stream then stays open (a session's
    client does not hang up after its Hello) until the call is over."""
    yield from requests
    if hold is not None:
        hold.wait(STREAM_READ_S + CALL_TIMEOUT_S)


def _read_stream(answers: Any, until: Callable[[list[Message]], bool] | None) -> Answer:
    """Reads a streaming answer; one still open at the deadline, or once `until` holds, was
    accepted (a session stays open until the client leaves)."""
    read: list[Message] = []
    try:
        for response in answers:
            read.append(response)
            if until is not None and until(read):
                answers.cancel()
                break
    except grpc.RpcError as error:
        if error.code() in (grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.CANCELLED) and read:
            return Answer(grpc.StatusCode.OK, responses=tuple(read))
        return answer_of(error, read)
    return Answer(grpc.StatusCode.OK, responses=tuple(read))


@dataclass
class LogEnds:
    """End offsets of the topics a request writes synchronously (conversation events, signals,
    broadcasts): a rejected request must leave them where they were."""

    bootstrap: str
    topics: Sequence[str]
    _consumer: Any = field(default=None, init=False)

    def now(self) -> dict[tuple[str, int], int]:
        if self._consumer is None:
            self._consumer = open_consumer(self.bootstrap, f"security-{time.time_ns()}")
        return {tp: high for tp, (_, high) in watermarks(self._consumer, self.topics).items()}

    def close(self) -> None:
        if self._consumer is not None:
            self._consumer.close()
