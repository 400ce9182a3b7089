"""Resume against a node whose fold is behind the log: the client's positions still hold."""

from __future__ import annotations

from parley.domain.conversations import ConversationType
from parley.domain.delivery_fold import DeliveryFold
from parley.domain.events import Event, GroupCreated, Logged, MessageSent, Position, TextContent
from parley.gen.parley.v1 import delivery_pb2 as pb
from parley.sdk.session import frames_of
from services.delivery.resume import GapFiller
from services.delivery.router import Router, TailTopics
from services.delivery.sessions import Session, SessionRegistry

FAR_FUTURE_MS = 1 << 62


def logged(offset: int, payload: GroupCreated | MessageSent) -> Logged:
    event = Event(f"e{offset}", "g:g1", ConversationType.GROUP, "alice", 1_700_000_000_000,
                  payload)  # fmt: skip
    return Logged(event, Position(0, offset), "events")


def created() -> Logged:
    return logged(0, GroupCreated("g1", "team", "alice", ("alice", "bob")))


def sent(n: int) -> Logged:
    return logged(n, MessageSent(f"m{n}", TextContent(f"text {n}")))


def pushed_seqs(session: Session) -> list[int]:
    seqs = []
    while session._queued_bytes:
        data = session._queue.popleft()
        session._queued_bytes -= len(data)
        for frame in frames_of(pb.ServerFrame.FromString(data)):
            if frame.WhichOneof("frame") == "message":
                seqs.append(frame.message.message.seq)
    return seqs


async def test_gap_fill__a_fold_behind_the_log_never_pushes_what_the_client_holds() -> None:
    # Bob held seqs 1..3 of the group on another node; this node has not folded the group yet
    # (it was restored from an older checkpoint, or its fetch of the newest records is out).
    fold, registry = DeliveryFold(), SessionRegistry()
    router = Router(fold, registry, TailTopics("signals", "broadcasts", "updates"))
    bob = Session("s1", "bob", FAR_FUTURE_MS)
    registry.add(bob)
    await GapFiller(fold, None).fill(bob, {"g:g1": 3}, resume=True, max_fill=0)
    # The fold catches up: the group, then messages 1..5, each routed live as it is folded.
    router.apply(created())
    for n in range(1, 6):
        router.apply(sent(n))
    assert pushed_seqs(bob) == [4, 5]


async def test_gap_fill__positions_of_conversations_the_fold_cannot_show_are_not_filled() -> None:
    fold = DeliveryFold()
    fold.apply(created())
    fold.apply(sent(1))
    carol = Session("s2", "carol", FAR_FUTURE_MS)
    await GapFiller(fold, None).fill(carol, {"g:g1": 0}, resume=True, max_fill=0)
    queued = [pb.ServerFrame.FromString(data) for data in carol._queue]
    assert [f.WhichOneof("frame") for f in queued] == ["synced"]  # no gap, no message of g1
