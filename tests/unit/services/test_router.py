"""The delivery router: which of this node's sessions get which frames, and what is counted."""

from __future__ import annotations

from prometheus_client import REGISTRY

from parley.adapters.kafka_records import Record
from parley.adapters.wire import encode_event
from parley.adapters.wire_delivery import go_away_frame, synced_frame
from parley.domain.conversations import ConversationType
from parley.domain.delivery_fold import DeliveryFold
from parley.domain.events import (
    BarrageContent,
    BroadcastSent,
    CommandContent,
    Content,
    Event,
    MessageSent,
    RoomEntered,
    TextContent,
)
from parley.gen.parley.v1 import delivery_pb2 as pb
from parley.gen.parley.v1 import updates_pb2
from parley.sdk.session import frames_of
from services.delivery.router import Router, TailTopics
from services.delivery.sessions import MAX_QUEUED_BYTES, Session, SessionRegistry
from tests.unit.domain.projection_script import GROUP, ROOM, START_MS, Script

FAR_FUTURE_MS = 1 << 62
TOPICS = TailTopics("signals", "broadcasts", "updates")


class Node:
    """A router over a fresh fold, with live sessions registered by name."""

    def __init__(self, *session_ids: str) -> None:
        self.registry = SessionRegistry()
        self.router = Router(DeliveryFold(), self.registry, TOPICS)
        self.sessions: dict[str, Session] = {}
        for session_id in session_ids:  # "alice" or "alice/2": a user's first or second device
            session = Session(session_id, session_id.split("/")[0], FAR_FUTURE_MS)
            session.end_fill(synced_frame({}))  # past its gap fill: pushes are queued live
            self.registry.add(session)
            self.sessions[session_id] = session

    def fold(self, script: Script) -> None:
        for logged in script.logged:
            self.router.apply(logged)

    def received(self) -> dict[str, list[str]]:
        """Each session's frames since it went live, one short line each (taken out)."""
        return {session_id: _taken(session) for session_id, session in self.sessions.items()}


def _taken(session: Session) -> list[str]:
    lines = []
    while session._queue:
        data = session._queue.popleft()
        session._queued_bytes -= len(data)
        lines += [_line(frame) for frame in frames_of(pb.ServerFrame.FromString(data))]
    return [line for line in lines if line != "synced"]


def _line(frame: pb.ServerFrame) -> str:
    kind = frame.WhichOneof("frame") or ""
    if kind == "message":
        message = frame.message.message
        return f"message {message.message_id} seq {message.seq}"
    if kind == "recall":
        return f"recall {frame.recall.message_id} seq {frame.recall.seq}"
    if kind in ("tip", "broadcast"):
        return f"{kind} {getattr(frame, kind).WhichOneof('payload')}"
    return kind


def pushes(kind: str) -> float:
    return REGISTRY.get_sample_value("parley_delivery_pushes_total", {"kind": kind}) or 0.0


def signal(offset: int, content: Content) -> Record:
    """A command or barrage message from erin to the room, as read from the signals topic."""
    message_id = f"c{offset}"
    sent = MessageSent(message_id, content)
    event = Event(message_id, ROOM, ConversationType.ROOM, "erin", START_MS, sent)
    return Record(TOPICS.signals, 0, offset, ROOM.encode(), encode_event(event))


def test_router__a_group_message_reaches_every_session_of_every_member_and_no_one_else() -> None:
    node = Node("alice", "alice/2", "bob", "dave")
    s = Script()
    s.create_group(GROUP, "carol", ("alice", "bob"))
    message_id = s.send(GROUP, "alice", "hi")
    before = pushes("message"), pushes("tip")
    node.fold(s)
    member = ["tip group_created", f"message {message_id} seq 1"]
    assert node.received() == {"alice": member, "alice/2": member, "bob": member, "dave": []}
    assert (pushes("message"), pushes("tip")) == (before[0] + 3, before[1] + 3)


def test_router__a_removed_member_gets_the_tip_of_the_removal_and_not_the_next_message() -> None:
    node = Node("alice", "bob")
    s = Script()
    s.create_group(GROUP, "carol", ("alice", "bob"))
    s.remove_members(GROUP, "carol", ("bob",))
    message_id = s.send(GROUP, "carol", "bye bob")
    node.fold(s)
    tips = ["tip group_created", "tip group_members_removed"]
    assert node.received() == {"alice": [*tips, f"message {message_id} seq 1"], "bob": tips}


def test_router__a_duplicate_append_of_a_send_is_pushed_once_its_recall_carries_its_seq() -> None:
    node = Node("alice", "bob")
    s = Script()
    s.create_group(GROUP, "carol", ("alice", "bob"))
    s.send(GROUP, "bob", "first")
    message_id = s.send(GROUP, "alice", "oops")
    s.duplicate(2)
    s.recall(GROUP, "alice", message_id, "alice")
    before = pushes("message")
    node.fold(s)
    pushed = ["tip group_created", "message m2 seq 1", f"message {message_id} seq 2",
              f"recall {message_id} seq 2"]  # fmt: skip
    assert node.received() == {"alice": pushed, "bob": pushed}
    assert pushes("message") == before + 4  # the outboxes would drop a second push unseen


def test_router__a_room_larger_than_the_node_reaches_only_its_members_online_here() -> None:
    # Five members, two users on this node: the router walks the node's users, not the room.
    node = Node("alice", "zed")
    s = Script()
    s.create_room(ROOM, "erin")
    for user in ("alice", "bob", "carol", "dave"):
        s.add(ROOM, user, RoomEntered())
    message_id = s.send(ROOM, "erin", "welcome")
    node.fold(s)
    tips = ["tip room_entered"] * 4
    assert node.received() == {"alice": [*tips, f"message {message_id} seq 1"], "zed": []}


def test_router__command_and_barrage_reach_the_members_and_a_busy_outbox_drops_barrage() -> None:
    node = Node("alice", "bob", "zed")
    s = Script()
    s.create_room(ROOM, "erin")
    s.add(ROOM, "alice", RoomEntered())
    s.add(ROOM, "bob", RoomEntered())
    node.fold(s)
    node.received()
    # Bob's outbox is half full: barrage, which may be dropped, is; his command still arrives.
    node.sessions["bob"].push(go_away_frame("x" * (MAX_QUEUED_BYTES // 2)))
    before = pushes("command"), pushes("barrage")
    node.router.on_records([signal(7, CommandContent(b"typing")), signal(8, BarrageContent("wow"))])
    received = node.received()
    assert received["alice"] == ["message c7 seq 0", "message c8 seq 0"]
    assert received["bob"] == ["go_away", "message c7 seq 0"]
    assert received["zed"] == []
    assert (pushes("command"), pushes("barrage")) == (before[0] + 2, before[1] + 2)


def test_router__an_update_reaches_its_user_s_sessions_and_a_broadcast_every_session() -> None:
    node = Node("alice", "alice/2", "bob")
    update = updates_pb2.UserUpdate().SerializeToString()
    broadcast = Event("b1", "u:system", ConversationType.PEER, "system", START_MS,
                      BroadcastSent("b1", TextContent("maintenance at noon")))  # fmt: skip
    node.router.on_records(
        [
            Record(TOPICS.user_updates, 0, 1, b"alice", update),
            Record(TOPICS.broadcasts, 0, 1, b"", encode_event(broadcast)),
        ]
    )
    everyone = ["broadcast broadcast_sent"]
    assert node.received() == {
        "alice": ["update", *everyone],
        "alice/2": ["update", *everyone],
        "bob": everyone,
    }
