"""A builder of logged conversation events for projection tests, and a scripted history."""

from __future__ import annotations

from dataclasses import dataclass, field

from parley.domain.conversations import Conversation, ConversationType
from parley.domain.events import (
    ConversationDeleted,
    ConversationRead,
    Event,
    GroupCreated,
    GroupMembersAdded,
    GroupMembersRemoved,
    Logged,
    MessageDelivered,
    MessageRead,
    MessageRecalled,
    MessageSent,
    Payload,
    Position,
    RoomCreated,
    RoomDismissed,
    TextContent,
)

PEER_AB = "p:alice:bob"
GROUP = "g:team"
ROOM = "r:lobby"
START_MS = 1_700_000_000_000


def type_of_key(key: str) -> ConversationType:
    conversation = Conversation.from_key(key)
    assert conversation is not None, key
    return conversation.type


@dataclass
class Script:
    """Appends events with increasing offsets, as one partition of the log would."""

    partition: int = 0
    logged: list[Logged] = field(default_factory=list)
    _offsets: dict[int, int] = field(default_factory=dict)
    _counter: int = 0

    def add(self, key: str, actor: str, payload: Payload, event_id: str = "") -> Logged:
        self._counter += 1
        offset = self._offsets.get(self.partition, 0)
        self._offsets[self.partition] = offset + 1
        event = Event(
            event_id=event_id or f"e{self._counter}",
            conversation_key=key,
            conversation_type=type_of_key(key),
            actor=actor,
            server_time_ms=START_MS + 1000 * self._counter,
            payload=payload,
        )
        logged = Logged(event, Position(self.partition, offset))
        self.logged.append(logged)
        return logged

    def send(self, key: str, actor: str, text: str, message_id: str = "", **kw: object) -> str:
        message_id = message_id or f"m{self._counter + 1}"
        recipient = key.split(":")[1:] if key.startswith("p:") else []
        peer = next((u for u in recipient if u != actor), "")
        payload = MessageSent(message_id, TextContent(text), recipient_id=peer, **kw)  # type: ignore[arg-type]
        self.add(key, actor, payload, event_id=message_id)
        return message_id

    def duplicate(self, index: int) -> Logged:
        """The same event appended again (a retried append): a new offset, same ids."""
        original = self.logged[index]
        offset = self._offsets[self.partition]
        self._offsets[self.partition] = offset + 1
        logged = Logged(original.event, Position(self.partition, offset))
        self.logged.append(logged)
        return logged

    def recall(self, key: str, actor: str, message_id: str, sender: str) -> None:
        self.add(key, actor, MessageRecalled(message_id, sender))

    def read(self, key: str, actor: str, up_to_seq: int = 0) -> None:
        self.add(key, actor, ConversationRead(up_to_seq))

    def read_message(self, key: str, actor: str, message_id: str) -> None:
        self.add(key, actor, MessageRead(message_id))

    def delivered(self, key: str, actor: str, message_id: str) -> None:
        self.add(key, actor, MessageDelivered(message_id))

    def delete(self, key: str, actor: str, delete_history: bool = False) -> None:
        self.add(key, actor, ConversationDeleted(delete_history))

    def create_group(self, key: str, owner: str, members: tuple[str, ...]) -> None:
        self.add(key, owner, GroupCreated(key[2:], "team", owner, members))

    def add_members(self, key: str, actor: str, users: tuple[str, ...]) -> None:
        self.add(key, actor, GroupMembersAdded(users))

    def remove_members(self, key: str, actor: str, users: tuple[str, ...]) -> None:
        self.add(key, actor, GroupMembersRemoved(users))

    def create_room(self, key: str, actor: str) -> None:
        self.add(key, actor, RoomCreated(key[2:], "lobby"))

    def dismiss_room(self, key: str, actor: str) -> None:
        self.add(key, actor, RoomDismissed())


def scripted_history(script: Script | None = None) -> Script:
    """Peer, group with mentions and mention-all, recalls, reads, deletes, a dismissed room.

    Expected read models (asserted by the unit and the integration tests):
    - peer p:alice:bob: 4 messages; m2 recalled; bob read up to 3 -> bob unread 1, alice 0;
      bob's delivered_seq 4.
    - group g:team (owner carol, alice, bob; dave joins after seq 2): 5 messages; alice deleted
      it with history at seq 3 (cleared_through 3, hidden until seq 4 arrived); dave unread 3;
      bob mentioned at seq 2 (read by his own send at 3), mention-all at seq 4 -> bob mentions 1,
      unread 1; bob left after seq 4 (until_seq 4); readers: seq 1 alice and bob.
    - room r:lobby: 2 messages then dismissed -> no history rows.
    """
    s = script or Script()
    m1 = s.send(PEER_AB, "alice", "hi bob")
    m2 = s.send(PEER_AB, "bob", "hi alice")
    s.recall(PEER_AB, "bob", m2, "bob")
    s.send(PEER_AB, "bob", "how are you")
    s.read(PEER_AB, "bob", 3)
    m4 = s.send(PEER_AB, "alice", "fine")
    s.delivered(PEER_AB, "bob", m4)
    s.read_message(PEER_AB, "alice", m1)  # an ack of her own message changes nothing
    s.create_group(GROUP, "carol", ("alice", "bob"))
    s.send(GROUP, "carol", "welcome", receipt_requested=True)
    s.send(GROUP, "alice", "hey @bob", mentioned_user_ids=("bob",))
    s.add_members(GROUP, "carol", ("dave",))
    s.read(GROUP, "alice")
    s.send(GROUP, "bob", "thanks")
    s.delete(GROUP, "alice", delete_history=True)
    s.send(GROUP, "carol", "@all meeting", mention_all=True, receipt_requested=True)
    s.remove_members(GROUP, "carol", ("bob",))
    s.send(GROUP, "carol", "bye bob")
    s.create_room(ROOM, "erin")
    s.send(ROOM, "erin", "anyone?")
    s.send(ROOM, "erin", "hello?")
    s.dismiss_room(ROOM, "erin")
    s.duplicate(0)  # a retried append of alice's first peer message
    return s
