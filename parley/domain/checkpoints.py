"""Checkpoints of in-memory folds: a sealed, versioned, checksummed document and its positions.

A process that folds the log (the ingress write model, a delivery node's fold) restores the
newest usable checkpoint and reads only the log after its positions (DESIGN decision 11). A
checkpoint is usable when its fold, topic and format version are the reader's and its payload
hashes to its checksum; anything else is skipped with a stated reason, never half-used.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

FORMAT_VERSION = 5  # bump whenever a fold's document changes shape or meaning


class Unusable(StrEnum):
    """Why a stored checkpoint was not used (the label of the restore metric)."""

    FOLD = "other_fold"
    TOPIC = "other_topic"
    FORMAT = "older_format"
    CHECKSUM = "checksum_mismatch"
    DECODE = "undecodable"
    MISSING = "incomplete"
    AHEAD = "ahead_of_log"


class CheckpointUnusable(Exception):
    def __init__(self, reason: Unusable, detail: str) -> None:
        super().__init__(f"{reason.value}: {detail}")
        self.reason = reason


@dataclass(frozen=True)
class Checkpoint:
    """A fold's state after every event before `positions` (partition -> next offset) of
    `topic`. `checkpoint_id` orders checkpoints of one fold (ms since the epoch at sealing)."""

    fold: str
    checkpoint_id: int
    topic: str
    positions: dict[int, int]
    format_version: int
    checksum: str  # sha256 of payload, hex
    payload: bytes  # zlib-compressed canonical JSON of the fold's document

    @property
    def events_covered(self) -> int:
        return sum(self.positions.values())


def canonical(document: Any) -> bytes:
    """The document's one byte form: equal states give equal bytes."""
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


def seal(
    fold: str, checkpoint_id: int, topic: str, positions: dict[int, int], document: Any
) -> Checkpoint:
    payload = zlib.compress(canonical(document), 1)
    return Checkpoint(
        fold,
        checkpoint_id,
        topic,
        dict(positions),
        FORMAT_VERSION,
        hashlib.sha256(payload).hexdigest(),
        payload,
    )


def unseal(checkpoint: Checkpoint, fold: str, topic: str) -> Any:
    """The document of a usable checkpoint, or CheckpointUnusable saying why not."""
    if checkpoint.fold != fold:
        raise CheckpointUnusable(Unusable.FOLD, f"{checkpoint.fold!r} is not {fold!r}")
    if checkpoint.topic != topic:
        raise CheckpointUnusable(Unusable.TOPIC, f"{checkpoint.topic!r} is not {topic!r}")
    if checkpoint.format_version != FORMAT_VERSION:
        raise CheckpointUnusable(
            Unusable.FORMAT, f"format {checkpoint.format_version}, this code reads {FORMAT_VERSION}"
        )
    if hashlib.sha256(checkpoint.payload).hexdigest() != checkpoint.checksum:
        raise CheckpointUnusable(Unusable.CHECKSUM, "the payload does not hash to its checksum")
    try:
        return json.loads(zlib.decompress(checkpoint.payload))
    except (zlib.error, ValueError) as error:
        raise CheckpointUnusable(Unusable.DECODE, repr(error)) from error
