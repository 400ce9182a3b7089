"""A write model in which alice uploads images and shows them in rooms and peer conversations."""

from __future__ import annotations

import itertools

from parley.domain.commands import SendCommand, Stamp
from parley.domain.conversations import ConversationType
from parley.domain.events import Event, ImageContent, MediaRef, MessageSent, Picture, Position
from parley.domain.limits import Limits
from parley.domain.media_uploads import decide_media_uploaded, object_id_from
from parley.domain.moderation import build_interceptor_chain
from parley.domain.rate_limit import RateLimiter
from parley.domain.rooms import decide_create_room, decide_dismiss_room
from parley.domain.sending import SendDecider
from parley.domain.write_model import WriteModel

LIMITS = Limits()


class RoomMedia:
    """Each method decides as the ingress would and folds the event, as the log feed would."""

    def __init__(self) -> None:
        self.model = WriteModel()
        self.decider = SendDecider(
            self.model, LIMITS, RateLimiter(1000), build_interceptor_chain(None, [])
        )
        self._offsets = itertools.count(1)

    def apply(self, event: Event) -> None:
        self.model.apply_event(event, next(self._offsets))

    def _stamp(self) -> Stamp:
        offset = next(self._offsets)
        return Stamp(offset, f"ev-{offset}")

    def create_room(self, room_id: str) -> None:
        self.apply(decide_create_room("alice", room_id, room_id, self.model, LIMITS, self._stamp()))

    def dismiss_room(self, room_id: str) -> Event:
        event = decide_dismiss_room("alice", room_id, self.model, self._stamp())
        self.apply(event)
        return event

    def upload(self, name: str) -> str:
        object_id = object_id_from(name.encode().ljust(16, b"."))
        ref = MediaRef(object_id=object_id, file_name=f"{name}.png", size_bytes=5000,
                       mime_type="image/png")  # fmt: skip
        image = ImageContent(ref, 800, 600, Picture(240, 180, 900), Picture(800, 600, 4000))
        self.apply(decide_media_uploaded("alice", image, self._stamp()))
        return object_id

    def show(self, object_id: str, kind: ConversationType, target: str) -> MessageSent:
        """alice sends the image to a room (kind ROOM) or to a user (kind PEER)."""
        content = ImageContent(MediaRef(object_id=object_id))
        command = SendCommand("alice", kind, target, f"c-{next(self._offsets)}", content)
        decision = self.decider.prepare(command, self._stamp())
        assert isinstance(decision, Event) and isinstance(decision.payload, MessageSent)
        self.decider.record(decision, Position(0, next(self._offsets)))
        return decision.payload
