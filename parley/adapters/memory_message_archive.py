"""The message archive in memory: MessageArchive over the messages_by_id rows of
InMemoryReadModels, for unit tests of the rules that read old messages."""

from __future__ import annotations

from collections.abc import Collection

from parley.adapters.memory_projection_store import InMemoryReadModels
from parley.adapters.message_archive_rows import from_row
from parley.domain.message_archive import ArchivedMessage
from parley.domain.read_models import MessageByIdRow


class InMemoryMessageArchive:
    """Reads what the projector's writes left in `read_models`. `unavailable` makes every read
    fail as a store that does not answer; `reads` counts the ids asked for."""

    def __init__(self, read_models: InMemoryReadModels | None = None) -> None:
        self.read_models = read_models if read_models is not None else InMemoryReadModels()
        self.unavailable = False
        self.reads = 0

    async def get_many(self, message_ids: Collection[str]) -> dict[str, ArchivedMessage]:
        if self.unavailable:
            raise ConnectionError("the message archive does not answer")
        self.reads += len(message_ids)
        found: dict[str, ArchivedMessage] = {}
        for message_id in message_ids:
            row = self.read_models.rows.get(("message_by_id", message_id))
            if isinstance(row, MessageByIdRow):
                found[message_id] = from_row(row)
        return found
