"""Read-your-writes: the log positions a read must see projected before it answers.

The read models lag the log by the projector's delay (tenths of a second). A client that has
just created a group, or sent the first message of a conversation, must not be told it is no
member or has no such conversation. So every ingress process notes, for the events of the
conversation stream it appends or follows, the newest position per conversation and per actor;
a read first waits (bounded) until the projection has applied that far in that partition.
"""

from __future__ import annotations

from collections import OrderedDict

from parley.domain.events import Event, Logged, Position
from parley.domain.log_streams import Stream, stream_for

MAX_CONVERSATIONS = 200_000  # newest positions kept; older ones are long projected
MAX_USERS = 200_000


class WrittenPositions:
    """Newest position of each conversation, and of each user's own writes per partition.

    Positions only grow: noting an older position (the log follower bringing back a write that
    was noted when Kafka acknowledged it) changes nothing. Both maps forget their least recently
    written entries past their bound; a forgotten entry only means a read does not wait.
    """

    def __init__(
        self, max_conversations: int = MAX_CONVERSATIONS, max_users: int = MAX_USERS
    ) -> None:
        self._conversations: OrderedDict[str, Position] = OrderedDict()
        self._users: OrderedDict[str, dict[int, int]] = OrderedDict()
        self._max_conversations = max_conversations
        self._max_users = max_users

    def note(self, event: Event, position: Position) -> None:
        if stream_for(event) is not Stream.CONVERSATION_EVENTS:
            return  # signals and broadcasts are never projected
        key = event.conversation_key
        known = self._conversations.get(key)
        if known is None or known.offset < position.offset:
            self._conversations[key] = position
            self._conversations.move_to_end(key)
            if len(self._conversations) > self._max_conversations:
                self._conversations.popitem(last=False)
        own = self._users.setdefault(event.actor, {})
        if own.get(position.partition, -1) < position.offset:
            own[position.partition] = position.offset
            self._users.move_to_end(event.actor)
            if len(self._users) > self._max_users:
                self._users.popitem(last=False)

    def apply(self, logged: Logged) -> None:
        """A LoggedSink: notes what the log follower brings (other processes' writes too)."""
        self.note(logged.event, logged.position)

    def of_conversation(self, key: str) -> dict[int, int]:
        """{partition: offset} a read of this conversation must see projected."""
        known = self._conversations.get(key)
        return {} if known is None else {known.partition: known.offset}

    def of_user(self, user_id: str) -> dict[int, int]:
        """{partition: offset} of the user's own newest writes: what their lists must show."""
        return dict(self._users.get(user_id, {}))


def still_ahead(required: dict[int, int], applied: dict[int, int]) -> dict[int, int]:
    """The part of `required` the projection has not applied yet (-1: nothing applied)."""
    return {p: offset for p, offset in required.items() if applied.get(p, -1) < offset}
