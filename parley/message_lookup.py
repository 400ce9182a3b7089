"""Reading from the message archive what a rule needs and the write model's windows no longer
hold (DESIGN decision 11).

The rules stay pure (parley.domain.acks, recall, media_access, sending): a servicer first asks
here for the messages a request names that the message index (or, for a send, the ledger)
does not hold, then passes the result to the rule. Nothing is read about a message inside the
window, as every message just sent is: the archive lags the log by the projector's lag, the
window is far longer, so it is asked only about misses.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable

from parley import metrics
from parley.domain.commands import SendCommand
from parley.domain.errors import Reason, Rejected
from parley.domain.events import CombineContent, Content, MultipleContent
from parley.domain.message_archive import NO_ARCHIVED_MESSAGES, ArchivedMessage, ArchivedMessages
from parley.domain.message_ids import message_id_for
from parley.domain.write_model import WriteModel
from parley.ports import MessageArchive

log = logging.getLogger(__name__)

# A fresh send waits at most this long for the archive before going on without it.
SEND_LOOKUP_TIMEOUT_S = 1.0
WARN_EVERY_S = 10.0


class MessageLookup:
    """The archive's answers for what `model` does not hold; with no archive (a process
    without Cassandra), nothing older than the windows is found."""

    def __init__(self, archive: MessageArchive | None, model: WriteModel) -> None:
        self._archive = archive
        self._model = model
        self._warned_at = -WARN_EVERY_S

    async def missing(self, message_ids: Iterable[str], use: str) -> ArchivedMessages:
        """The named messages the index does not hold, as the archive holds them; Rejected
        READ_MODELS_UNAVAILABLE when it does not answer (the rule cannot be decided)."""
        wanted = [m for m in dict.fromkeys(message_ids) if self._model.messages.get(m) is None]
        return await self._read(wanted, use)

    async def for_send(self, command: SendCommand) -> ArchivedMessages:
        """The messages a send forwards that the index does not hold and, for a declared retry
        the ledger has no entry for, the message its id made before the idempotency window (a
        retry must be answered with it, never make a second one).

        The archive is read once for both. When it does not answer, a send that forwards an
        old message is READ_MODELS_UNAVAILABLE; any other goes on as a fresh send (logged and
        counted): the send path must not stop with Cassandra, and a retry older than the
        idempotency window meeting a Cassandra outage is the one case that could then repeat.
        """
        forwarded = [m for m in forwarded_ids(command.content) if not self._model.messages.get(m)]
        own = message_id_for(command.sender, command.client_message_id)
        # Only a declared retry: a read per fresh send costs the ingress more CPU than the send
        # itself (measured: bench-ingest p50 5 -> 58 ms at 800/s on this machine).
        asks_own = (
            command.retry
            and self._model.sends.lookup(command.sender, command.client_message_id) is None
        )
        wanted = list(dict.fromkeys([*forwarded, *([own] if asks_own else [])]))
        if not wanted or self._archive is None:
            return NO_ARCHIVED_MESSAGES
        try:
            async with asyncio.timeout(SEND_LOOKUP_TIMEOUT_S):  # no task per send
                found = await self._archive.get_many(wanted)
        except Exception as error:
            _count("send", "failed")
            if forwarded:
                raise _unavailable() from error
            if time.monotonic() - self._warned_at >= WARN_EVERY_S:  # not once per send
                self._warned_at = time.monotonic()
                log.warning("message archive unavailable, sends taken as fresh: %r", error)
            return NO_ARCHIVED_MESSAGES
        _count("send", "found", len(found))
        _count("send", "absent", len(wanted) - len(found))
        return found

    async def send_status(self, sender: str, client_message_id: str) -> ArchivedMessage | None:
        """The stored message a send made, for GetSendStatus once the ledger forgot it."""
        message_id = message_id_for(sender, client_message_id)
        found = (await self._read([message_id], "status")).get(message_id)
        return found if found is not None and found.sender_id == sender else None

    async def _read(self, wanted: list[str], use: str) -> ArchivedMessages:
        if not wanted or self._archive is None:
            return NO_ARCHIVED_MESSAGES
        try:
            found = await self._archive.get_many(wanted)
        except Exception as error:
            _count(use, "failed")
            log.warning("message archive unavailable (%s): %r", use, error)
            raise _unavailable() from error
        _count(use, "found", len(found))
        _count(use, "absent", len(wanted) - len(found))
        return found


def forwarded_ids(content: Content) -> list[str]:
    """Ids of the messages a content forwards (merged forwards, nested ones included)."""
    if isinstance(content, MultipleContent):
        return [i for item in content.items for i in forwarded_ids(item)]
    if isinstance(content, CombineContent):
        return [i for f in content.messages for i in (f.message_id, *forwarded_ids(f.content))]
    return []


def _unavailable() -> Rejected:
    return Rejected(
        Reason.READ_MODELS_UNAVAILABLE,
        "the read models did not answer about a message older than the in-memory window",
    )


def _count(use: str, outcome: str, amount: int = 1) -> None:
    if amount:
        metrics.MESSAGE_ARCHIVE_LOOKUPS.labels(use=use, outcome=outcome).inc(amount)
