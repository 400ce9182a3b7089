"""Delivery frames: domain values to serialized ServerFrame bytes, encoded once per event."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from parley.adapters.wire import event_to_proto
from parley.adapters.wire_rows import history_to_proto
from parley.domain.conversations import ConversationType
from parley.domain.events import Event
from parley.domain.read_models import HistoryRow
from parley.gen.parley.v1 import delivery_pb2 as pb

# ServerFrame.update is field 4, length-delimited: (4 << 3) | 2. The projector's UserUpdate
# bytes are forwarded inside it without being parsed and re-encoded.
_UPDATE_TAG = b"\x22"
# ServerFrame.batch is field 14 and FrameBatch.frames field 1, both length-delimited.
_BATCH_TAG = b"\x72"
_BATCHED_FRAME_TAG = b"\x0a"


def _bytes(frame: pb.ServerFrame) -> bytes:
    return frame.SerializeToString()


def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def batch_frame(frames: Sequence[bytes]) -> bytes:
    """Serialized ServerFrames written as one: a ServerFrame.batch built from their bytes."""
    body = b"".join(_BATCHED_FRAME_TAG + _varint(len(frame)) + frame for frame in frames)
    return _BATCH_TAG + _varint(len(body)) + body


def message_frame(
    row: HistoryRow,
    conversation_type: ConversationType,
    *,
    order_key: int = 0,
    client_message_id: str = "",
    live: bool = True,
) -> bytes:
    """A stored message (seq > 0) or a command/barrage message (seq 0)."""
    message = pb.DeliveredMessage(
        conversation_type=int(conversation_type),  # type: ignore[arg-type]
        message=history_to_proto(row),
        order_key=order_key,
        client_message_id=client_message_id,
        live=live,
    )
    return _bytes(pb.ServerFrame(message=message))


def recall_frame(event: Event, message_id: str, seq: int, order_key: int) -> bytes:
    notice = pb.RecallNotice(
        conversation_type=int(event.conversation_type),  # type: ignore[arg-type]
        conversation_key=event.conversation_key,
        message_id=message_id,
        seq=seq,
        recalled_by=event.actor,
        recalled_at_ms=event.server_time_ms,
        order_key=order_key,
    )
    return _bytes(pb.ServerFrame(recall=notice))


def tip_frame(event: Event) -> bytes:
    return _bytes(pb.ServerFrame(tip=event_to_proto(event)))


def broadcast_frame(event: Event) -> bytes:
    return _bytes(pb.ServerFrame(broadcast=event_to_proto(event)))


def update_frame(user_update: bytes) -> bytes:
    """Wraps a serialized parley.v1.UserUpdate as it came from the log."""
    return _UPDATE_TAG + _varint(len(user_update)) + user_update


def welcome_frame(session_id: str, node_id: str, now_ms: int, expires_at_ms: int) -> bytes:
    welcome = pb.Welcome(
        session_id=session_id,
        node_id=node_id,
        server_time_ms=now_ms,
        token_expires_at_ms=expires_at_ms,
    )
    return _bytes(pb.ServerFrame(welcome=welcome))


def presence_frame(user_id: str, online: bool, changed_at_ms: int) -> bytes:
    presence = pb.Presence(user_id=user_id, online=online, changed_at_ms=changed_at_ms)
    return _bytes(pb.ServerFrame(presence=presence))


def token_will_expire_frame(expires_at_ms: int) -> bytes:
    return _bytes(pb.ServerFrame(token_will_expire=pb.TokenWillExpire(expires_at_ms=expires_at_ms)))


def resync_frame(reason: str) -> bytes:
    return _bytes(pb.ServerFrame(resync_required=pb.ResyncRequired(reason=reason)))


def go_away_frame(reason: str) -> bytes:
    return _bytes(pb.ServerFrame(go_away=pb.GoAway(reason=reason)))


def pong_frame(client_time_ms: int, server_time_ms: int) -> bytes:
    return _bytes(pb.ServerFrame(pong=pb.Pong(client_time_ms=client_time_ms,
                                              server_time_ms=server_time_ms)))  # fmt: skip


def gap_frame(conversation_key: str, after_seq: int, up_to_seq: int) -> bytes:
    gap = pb.HistoryGap(conversation_key=conversation_key, after_seq=after_seq, up_to_seq=up_to_seq)
    return _bytes(pb.ServerFrame(gap=gap))


def synced_frame(last_seqs: Mapping[str, int]) -> bytes:
    return _bytes(pb.ServerFrame(synced=pb.Synced(last_seqs=dict(last_seqs))))
