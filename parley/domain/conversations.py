"""Conversation identity: types, id rules and the canonical key that orders a conversation's log."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import IntEnum

from parley.domain.errors import Reason, Rejected

# User, group and room ids: no separators, so keys can be split without escaping.
_ID_PATTERN = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")

_PREFIXES = {"p": 0, "r": 1, "g": 2}  # key prefix -> ConversationType value


class ConversationType(IntEnum):
    """Numbers as in the reference SDKs: peer 0, room 1, group 2."""

    PEER = 0
    ROOM = 1
    GROUP = 2


def check_id(value: str, what: str) -> str:
    """Returns the id unchanged, or rejects it with BAD_PARAMETER."""
    if not _ID_PATTERN.fullmatch(value):
        raise Rejected(Reason.BAD_PARAMETER, f"{what} must match {_ID_PATTERN.pattern}")
    return value


@dataclass(frozen=True)
class Conversation:
    """A conversation as the log knows it: its type and canonical key.

    Peer keys are "p:<lower id>:<higher id>" so both users' events share one Kafka partition;
    group keys "g:<id>", room keys "r:<id>". User-scoped state (a blacklist) uses "u:<id>".
    """

    type: ConversationType
    key: str

    @staticmethod
    def for_request(type_: ConversationType, target_id: str, actor: str) -> Conversation:
        """The conversation a user addresses: for peers, target_id is the other user, or the
        conversation's key "p:<low>:<high>" (as frames and summaries carry it) naming the
        actor as one of the two."""
        if type_ is ConversationType.PEER and target_id.startswith("p:"):
            target_id = _other_in_key(target_id, actor)
        check_id(target_id, "conversation id")
        if type_ is ConversationType.PEER:
            if target_id == actor:
                raise Rejected(Reason.SEND_TO_SELF, "a peer conversation needs another user")
            low, high = sorted((actor, target_id))
            return Conversation(type_, f"p:{low}:{high}")
        prefix = "g" if type_ is ConversationType.GROUP else "r"
        return Conversation(type_, f"{prefix}:{target_id}")

    @staticmethod
    def from_key(key: str) -> Conversation | None:
        """The conversation a log key names ("p:<low>:<high>", "g:<id>", "r:<id>"); None for
        a key that names none (a user's own stream "u:<id>"). The one parser of keys."""
        number = _PREFIXES.get(key[:1])
        if number is None or key[1:2] != ":":
            return None
        return Conversation(ConversationType(number), key)

    @property
    def target_id(self) -> str:
        """The group or room id (for peers: the "low:high" pair)."""
        return self.key.split(":", 1)[1]

    @property
    def participants(self) -> tuple[str, ...]:
        """A peer conversation's two users (low, high); () for groups and rooms."""
        if self.type is not ConversationType.PEER:
            return ()
        low, _, high = self.target_id.partition(":")
        return (low, high)

    def peer_of(self, user_id: str) -> str:
        """The other participant of a peer conversation."""
        low, high = self.participants
        return high if user_id == low else low


def _other_in_key(key: str, actor: str) -> str:
    users = key.split(":")[1:]
    if len(users) != 2 or actor not in users:
        raise Rejected(
            Reason.BAD_PARAMETER, "a peer conversation key must be p:<low>:<high> naming the caller"
        )
    low, high = users
    return high if actor == low else low


def user_key(user_id: str) -> str:
    """Key of a user's own state stream (blacklist)."""
    return f"u:{user_id}"
