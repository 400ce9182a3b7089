"""The write model: everything the write side decides with, folded from the log."""

from __future__ import annotations

from typing import Any

from parley.domain.commands import SendReceipt
from parley.domain.directory import Directory
from parley.domain.events import Event, Logged, MessageSent
from parley.domain.fold_windows import DEFAULT_WINDOWS, FoldWindows
from parley.domain.media_registry import MediaRegistry
from parley.domain.message_ids import fingerprint_of_event
from parley.domain.message_index import MessageIndex
from parley.domain.send_ledger import SendLedger

WRITE_MODEL_FOLD = "write_model"  # the checkpoints' name of this fold


def receipt_of(event: Event, offset: int) -> SendReceipt:
    """The answer to the send that produced this MessageSent event at this log offset."""
    if not isinstance(event.payload, MessageSent):
        raise TypeError("only MessageSent events have a send receipt")
    return SendReceipt(
        message_id=event.payload.message_id,
        order_key=offset,
        server_time_ms=event.server_time_ms,
        conversation_key=event.conversation_key,
        masked=event.payload.masked,
    )


class WriteModel:
    """Directory, message index, send ledger and media registry; a LoggedSink fed by the log
    follower.

    Applying is idempotent (each part is), so the at-least-once feed may redeliver freely.
    Messages and sends are kept within `windows` (given parts come with their own bounds).
    """

    def __init__(
        self,
        directory: Directory | None = None,
        messages: MessageIndex | None = None,
        sends: SendLedger | None = None,
        media: MediaRegistry | None = None,
        windows: FoldWindows = DEFAULT_WINDOWS,
    ) -> None:
        self.directory = directory if directory is not None else Directory()
        self.messages = (
            messages
            if messages is not None
            else MessageIndex(windows.messages_ms, windows.max_messages)
        )
        self.sends = (
            sends if sends is not None else SendLedger(windows.idempotency_ms, windows.max_sends)
        )
        self.media = media if media is not None else MediaRegistry(windows.media_ms)

    def apply(self, logged: Logged) -> None:
        self.apply_event(logged.event, logged.position.offset)

    def to_document(self) -> dict[str, Any]:
        """Every part as plain JSON values: what a checkpoint of this fold holds."""
        return {
            "directory": self.directory.to_document(),
            "messages": self.messages.to_document(),
            "sends": self.sends.to_document(),
            "media": self.media.to_document(),
        }

    @classmethod
    def from_document(
        cls, document: dict[str, Any], windows: FoldWindows = DEFAULT_WINDOWS
    ) -> WriteModel:
        """A write model in the state a to_document value describes, kept within `windows`."""
        model = cls(windows=windows)
        model.directory.restore(document["directory"])
        model.messages.restore(document["messages"])
        model.sends.restore(document["sends"])
        model.media.restore(document["media"])
        return model

    def apply_event(self, event: Event, offset: int) -> SendReceipt | None:
        """Folds one event; for a send, returns the receipt the ledger keeps for it."""
        self.directory.apply(event)
        self.messages.apply(event)
        self.media.apply(event)
        if not isinstance(event.payload, MessageSent) or not event.client_message_id:
            return None
        # The ledger keeps the first entry of a send anyway; skipping the fingerprint here halves
        # the cost of the feed bringing back the sends this process already recorded.
        earlier = self.sends.lookup(event.actor, event.client_message_id)
        if earlier is not None:
            return earlier.receipt
        entry = self.sends.record(
            event.actor,
            event.client_message_id,
            fingerprint_of_event(event),
            receipt_of(event, offset),
        )
        return entry.receipt
