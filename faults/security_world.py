"""The security suite's world: users, a peer conversation with a text and an image, a group and
a room, made through the public API; and valid requests of any RPC built from it by field name."""

from __future__ import annotations

import contextlib
import io
import time
import uuid
from dataclasses import dataclass
from typing import Any

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from PIL import Image

from faults.security_calls import Caller, Rpc, every_rpc
from parley.gen.parley.v1 import common_pb2, delivery_pb2, ingress_pb2, media_pb2, query_pb2

PEER, ROOM, GROUP = 0, 1, 2
READY_TIMEOUT_S = 60.0
SEND = "/parley.v1.MessagingService/SendMessage"


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def text(value: str) -> common_pb2.MessageBody:
    return common_pb2.MessageBody(text=common_pb2.TextContent(text=value))


def ref(type_: int, id_: str) -> common_pb2.ConversationRef:
    return common_pb2.ConversationRef(type=type_, id=id_)  # type: ignore[arg-type]


@dataclass
class World:
    """Alice and Bob talk (a text m1 and an image m2); Alice owns a group with Bob and Dave
    (Bob sent g1 there) and a room; Carol is a stranger to all of it."""

    prefix: str
    admin_secret: str
    tokens: dict[str, str]
    m1: str = ""
    m1_cmid: str = ""
    m2: str = ""
    object_id: str = ""
    g1: str = ""
    peer_key: str = ""

    def user(self, name: str) -> str:
        return f"{self.prefix}{name}"

    def token(self, name: str) -> str:
        return self.tokens[name]

    @property
    def group(self) -> str:
        return f"{self.prefix}grp"

    @property
    def room(self) -> str:
        return f"{self.prefix}room"


def _rpc(path: str) -> Rpc:
    return next(r for r in every_rpc() if r.path == path)


def call_ok(caller: Caller, path: str, request: Any, bearer: str) -> Any:
    answer = caller.call(_rpc(path), request, bearer)
    if answer.code.name != "OK":
        raise RuntimeError(f"setting up the world: {path} answered {answer.describe()}")
    return answer.responses[-1]


def build_world(caller: Caller, admin_secret: str) -> World:
    """Makes the world through the API and waits until the read models show it."""
    prefix = f"sec{uuid.uuid4().hex[:6]}-"
    names = ("alice", "bob", "carol", "dave")
    tokens = {
        name: call_ok(caller, "/parley.v1.AdminService/IssueToken",
                      ingress_pb2.IssueTokenRequest(user_id=f"{prefix}{name}"), admin_secret).token
        for name in names
    }  # fmt: skip
    world = World(prefix, admin_secret, tokens)
    alice, bob = world.token("alice"), world.token("bob")
    world.m1_cmid = uuid.uuid4().hex
    sent = call_ok(caller, SEND, ingress_pb2.SendMessageRequest(
        conversation=ref(PEER, world.user("bob")), client_message_id=world.m1_cmid,
        body=text("hello bob")), alice)  # fmt: skip
    world.m1, world.peer_key = sent.message_id, sent.conversation_key
    chunk = media_pb2.UploadChunk(kind=common_pb2.MESSAGE_TYPE_IMAGE, file_name="a.png",
                                  data=png_bytes())  # fmt: skip
    uploaded = call_ok(caller, "/parley.v1.MediaService/Upload", [chunk], alice)
    world.object_id = uploaded.result.body.image.media.object_id
    world.m2 = call_ok(caller, SEND, ingress_pb2.SendMessageRequest(
        conversation=ref(PEER, world.user("bob")), client_message_id=uuid.uuid4().hex,
        body=uploaded.result.body), alice).message_id  # fmt: skip
    call_ok(caller, "/parley.v1.GroupService/CreateGroup", ingress_pb2.CreateGroupRequest(
        group_id=world.group, name="team", member_ids=[world.user("bob"), world.user("dave")]),
        alice)  # fmt: skip
    call_ok(
        caller,
        "/parley.v1.RoomService/CreateRoom",
        ingress_pb2.CreateRoomRequest(room_id=world.room, name="hall"),
        alice,
    )
    world.g1 = call_ok(caller, SEND, ingress_pb2.SendMessageRequest(
        conversation=ref(GROUP, world.group), client_message_id=uuid.uuid4().hex,
        body=text("hello team"), receipt_requested=True), bob).message_id  # fmt: skip
    _wait_projected(caller, world, bob)
    return world


def _wait_projected(caller: Caller, world: World, bob: str) -> None:
    history = _rpc("/parley.v1.HistoryService/GetHistory")
    deadline = time.monotonic() + READY_TIMEOUT_S
    for conversation, count in ((ref(PEER, world.user("alice")), 2), (ref(GROUP, world.group), 1)):
        while True:
            answer = caller.call(
                history, query_pb2.GetHistoryRequest(conversation=conversation), bob
            )
            if answer.code.name == "OK" and len(answer.responses[0].messages) >= count:  # type: ignore[attr-defined]
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"the read models did not show {conversation} in time")
            time.sleep(0.2)


def seed_for(rpc: Rpc, world: World) -> Message:
    """A valid-looking request of `rpc` built from the world by field name, so a new RPC gets
    one without touching the suite (fields it does not know stay unset)."""
    if rpc.method.input_type.full_name == "parley.v1.ClientFrame":
        return delivery_pb2.ClientFrame(hello=delivery_pb2.Hello(resume=True, max_batch=8))
    message = rpc.request_class()()
    _seed_fields(message, world, 0)
    return message


def _seed_fields(message: Any, world: World, depth: int) -> None:
    values: dict[str, Any] = {
        "client_message_id": uuid.uuid4().hex, "message_id": world.m1, "group_id": world.group,
        "room_id": world.room, "user_id": world.user("bob"), "sender_id": world.user("alice"),
        "owner_id": world.user("alice"), "creator_id": world.user("alice"),
        "object_id": world.object_id, "file_name": "a.png", "token": world.token("alice"),
        "name": "seeded", "page_size": 10, "data": png_bytes(), "size_bytes": len(png_bytes()),
        "user_ids": [world.user("bob")], "member_ids": [world.user("bob")],
        "add_user_ids": [world.user("dave")],
    }  # fmt: skip
    for field in message.DESCRIPTOR.fields:
        if field.name == "conversation":
            message.conversation.CopyFrom(ref(PEER, world.user("bob")))
        elif field.name == "body" and field.message_type is not None:
            message.body.CopyFrom(text("seeded"))
        elif (
            field.name == "kind"
            and field.enum_type is not None
            and field.enum_type.name == "MessageType"
        ):
            message.kind = common_pb2.MESSAGE_TYPE_IMAGE
        elif field.name in values and not (field.containing_oneof and depth):
            value = values[field.name]
            if field.is_repeated:
                getattr(message, field.name).extend(value)
            elif not isinstance(value, list):
                with contextlib.suppress(TypeError):  # a field of that name but another type
                    setattr(message, field.name, value)
        elif field.type == FieldDescriptor.TYPE_MESSAGE and not field.is_repeated and depth < 2:
            _seed_fields(getattr(message, field.name), world, depth + 1)
