"""Presence: tells a user's contacts (peer conversation partners) when the user comes and goes."""

from __future__ import annotations

from parley import metrics
from parley.adapters.wire_delivery import presence_frame
from parley.domain.delivery_fold import DeliveryFold
from services.delivery.sessions import Session, SessionRegistry
from services.shell.clock import wall_clock_ms

_PUSHED = metrics.PUSHES.labels(kind="presence")


class Presence:
    """Online state as this node sees it: a user is online while they hold a session here.

    Contacts on other delivery nodes are not told (each node knows only its own sessions).
    """

    def __init__(self, fold: DeliveryFold, registry: SessionRegistry) -> None:
        self._fold = fold
        self._registry = registry

    def arrived(self, session: Session, first: bool) -> None:
        """The new session learns which contacts are online; contacts learn the user is."""
        now_ms = wall_clock_ms()
        peers = self._fold.peers_of(session.user_id)
        online = [peer for peer in peers if self._registry.is_online(peer)]
        for peer in online:
            session.push(presence_frame(peer, True, now_ms))
        _PUSHED.inc(len(online))
        if first:
            self._tell(peers, session.user_id, True, now_ms)

    def left(self, user_id: str, last: bool) -> None:
        if last:
            self._tell(self._fold.peers_of(user_id), user_id, False, wall_clock_ms())

    def _tell(self, peers: list[str], user_id: str, online: bool, now_ms: int) -> None:
        frame = presence_frame(user_id, online, now_ms)
        pushes = 0
        for peer in peers:
            for session in self._registry.of(peer):
                session.push(frame)
                pushes += 1
        _PUSHED.inc(pushes)
