"""Each sender's appends in the order their sends arrived, whatever order their reads end in."""

from __future__ import annotations

import asyncio


class Turn:
    """One send's place in its sender's line."""

    def __init__(self, previous: asyncio.Future[None] | None, own: asyncio.Future[None]) -> None:
        self._previous = previous
        self._own = own

    async def ready(self) -> None:
        """Returns once the sender's previous send has handed its append to the log (or ended
        without one); at once when it already has."""
        if self._previous is not None and not self._previous.done():
            await asyncio.shield(self._previous)

    def release(self) -> None:
        """Lets the sender's next send go on; idempotent. Call it right before handing the
        append over: the log takes it before the next send's task runs again."""
        if not self._own.done():
            self._own.set_result(None)


class SendOrder:
    """SendMessageStream handles a sender's sends concurrently, and its appends must reach the
    log in the order the requests came. Without a read before the append they do (tasks start
    in creation order); a send that first reads the message archive takes its turn on arrival
    and hands its append over only after the sender's previous send did."""

    def __init__(self) -> None:
        self._last: dict[str, asyncio.Future[None]] = {}

    def take(self, sender: str) -> Turn:
        """The sender's next turn (call it before the send's first await)."""
        own: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        previous = self._last.get(sender)
        self._last[sender] = own
        own.add_done_callback(lambda _: self._forget(sender, own))
        return Turn(previous, own)

    def _forget(self, sender: str, own: asyncio.Future[None]) -> None:
        if self._last.get(sender) is own:
            del self._last[sender]
