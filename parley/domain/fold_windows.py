"""How much per-message state a fold keeps in memory: time windows, not counts."""

from __future__ import annotations

from dataclasses import dataclass

RECALL_WINDOW_MS = 120_000  # Limits.recall_window_ms's default
IDEMPOTENCY_WINDOW_MS = 600_000
SAFETY_MAX_ENTRIES = 1_000_000
MEDIA_WINDOW_MS = 600_000  # far above the projector's lag: older media is in the media archive


@dataclass(frozen=True)
class FoldWindows:
    """Milliseconds of server time, behind the newest server time a part has seen, for which
    the message index and the send ledger keep a message or a send (DESIGN decision 11).

    Measured against the log, never the wall clock, so a fold gives the same state live, on
    replay and restored from a checkpoint. Anything older is read from the message archive.
    The counts are safety bounds only: they bind when more messages arrive within a window
    than memory was sized for, and then the oldest go first.
    """

    recall_ms: int = RECALL_WINDOW_MS
    idempotency_ms: int = IDEMPOTENCY_WINDOW_MS
    max_messages: int = SAFETY_MAX_ENTRIES
    max_sends: int = SAFETY_MAX_ENTRIES
    media_ms: int = MEDIA_WINDOW_MS  # the media registry's uploads and media messages

    @property
    def messages_ms(self) -> int:
        """The message index's window: a sender's recall and a retry's answer need the
        message without a read of the archive."""
        return max(self.recall_ms, self.idempotency_ms)


DEFAULT_WINDOWS = FoldWindows()
