"""Ports: the Protocols the domain and services need from the outside, with their contracts."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from parley.domain.checkpoints import Checkpoint
from parley.domain.events import Event, Logged, MessageType, Position
from parley.domain.media_objects import StoredMedia
from parley.domain.media_uploads import Probed
from parley.domain.message_archive import ArchivedMessage
from parley.domain.projection_state import ConversationState, MessageRef
from parley.domain.read_models import (
    HeadRow,
    HistoryRow,
    MentionAllRow,
    MentionRow,
    Notice,
    ReaderRow,
    RowWrite,
    UserConversationRow,
)
from parley.domain.send_hook import Verdict


class EventLogUnavailable(Exception):
    """The log did not acknowledge an append: nothing may be reported as accepted.

    The outcome is unknown, not negative: an append handed to the log before it went down may
    still be written once it is back (Kafka's producer keeps its records and sends them in
    order), and a record that timed out in flight may have been written too. Whoever retries
    must be able to meet the first attempt: sends carry their message id as event id, which
    every consumer dedupes by. `unsettled` is set when the whole append is still with the log.
    """

    def __init__(self, message: str, unsettled: UnsettledAppend | None = None) -> None:
        super().__init__(message)
        self.unsettled = unsettled


class UnsettledAppend(Protocol):
    """An append the log neither acknowledged nor gave up on: it may still be written.

    Contract: `wait` returns the append's positions once the log acknowledges it. While the
    log is down it raises EventLogUnavailable at once (outcome still unknown, `unsettled`
    set again); when the log gives up on the append it raises EventLogUnavailable without
    `unsettled` (most likely not written; a timeout in flight leaves it possible). The log
    settles every append within its delivery timeout. `when_settled` calls back once, on the
    event loop, with the positions or None when the log gave up.
    """

    async def wait(self) -> list[Position]: ...

    def when_settled(self, callback: Callable[[list[Position] | None], None]) -> None: ...


class EventLog(Protocol):
    """The durable, ordered event log (Kafka in production).

    Contract:
    - `append` returns only once the log has durably acknowledged the event (acks=all); it raises
      EventLogUnavailable otherwise, and then the caller must not report success. It raises
      promptly when the log goes down, also for appends already waiting (outcome unknown).
    - Events with the same conversation key are stored in one partition, in append order; the
      returned Position's offset grows with every later append to that conversation.
    - Appending is not idempotent by itself: duplicates are recognised by event id downstream.
    - `append_many` keeps the order of the given events within each conversation key.
    """

    async def append(self, event: Event, topic: str | None = None) -> Position: ...

    async def append_many(
        self, events: Sequence[Event], topic: str | None = None
    ) -> list[Position]: ...

    async def close(self) -> None: ...


class EventFeed(Protocol):
    """Follows the log from the beginning and hands every event, in order per partition, to a sink.

    Contract: at-least-once per process lifetime, in log order within each partition;
    `wait_for(position)` returns once every event up to and including `position` was handed over
    (read-your-writes for the process that appended it), or raises TimeoutError.
    `catch_up()` returns once every event in the log at the time of the call was handed over
    (read-your-writes for what other processes appended), or raises TimeoutError.
    """

    async def wait_for(self, position: Position, timeout_s: float) -> None: ...

    async def catch_up(self, timeout_s: float) -> None: ...

    async def close(self) -> None: ...


class WordMatcher(Protocol):
    """Finds occurrences of a fixed word list in text (a multi-pattern matcher).

    Contract: returns (start, end) character spans of every match, end exclusive, in order of
    start; case-insensitive.
    """

    def find(self, text: str) -> list[tuple[int, int]]: ...


class SendHookFailed(Exception):
    """The pre-send hook gave no verdict: `timed_out` once its timeout passed; otherwise it
    could not be reached, answered an error status or an answer that is no verdict."""

    def __init__(self, message: str, *, timed_out: bool) -> None:
        super().__init__(message)
        self.timed_out = timed_out


class SendHook(Protocol):
    """The operator's pre-send hook (a gRPC SendHook service, protos/parley/v1/send_hook.proto).

    Contract: `check` returns the hook's verdict on a MessageSent event about to be appended,
    or raises SendHookFailed, at the latest when the hook's timeout has passed (the call's
    deadline): no other exception for any failure of the hook. One call asks the hook once,
    never retrying (the send flow calls it once per new message). `close` ends its connections.
    """

    async def check(self, event: Event) -> Verdict: ...

    async def close(self) -> None: ...


class LoggedSink(Protocol):
    """Receives logged events in log order (per partition)."""

    def apply(self, logged: Logged) -> None: ...


class BlobStoreUnavailable(Exception):
    """The blob store did not answer (or failed) an operation: nothing may be reported as done."""


@dataclass(frozen=True)
class BlobInfo:
    """What the store knows about one object; `modified_ms` is milliseconds since the epoch."""

    key: str
    size: int
    content_type: str
    modified_ms: int


class BlobStore(Protocol):
    """Bytes of media objects (MinIO in production), addressed by key inside one namespace.

    Contract:
    - `put_file` stores the whole file under `key` or nothing: a failed or interrupted put leaves
      no readable object (a half-written multipart upload may remain, invisible to `stat`, `get`
      and `list` until `abort_incomplete_uploads` removes it). A put replaces an existing object.
    - `stat` returns None for a missing key; `get` raises KeyError for one. `get` yields the
      bytes in order, in chunks of at most `chunk_size`, starting at `offset`.
    - `delete` is idempotent: missing keys are ignored. `list` returns the objects whose key
      starts with `prefix`, sorted by key.
    - Presigned URLs are bearer capabilities valid for `expires_s` seconds: an HTTP PUT of the
      body to `presign_put` stores the object, an HTTP GET of `presign_get` returns it. The
      caller checks access before handing one out; the store checks nothing.
    - Every method raises BlobStoreUnavailable when the store cannot be reached.
    Operations are synchronous towards the store (done when they return); none is transactional
    across keys.
    """

    async def put_file(self, key: str, path: str, content_type: str) -> BlobInfo: ...

    async def put_bytes(self, key: str, data: bytes, content_type: str) -> BlobInfo: ...

    async def stat(self, key: str) -> BlobInfo | None: ...

    def get(
        self, key: str, offset: int = 0, chunk_size: int = 256 * 1024
    ) -> AsyncIterator[bytes]: ...

    async def download_to(self, key: str, path: str) -> BlobInfo: ...

    async def delete(self, keys: Sequence[str]) -> None: ...

    async def list(self, prefix: str) -> list[BlobInfo]: ...

    async def presign_put(self, key: str, expires_s: int) -> str: ...

    async def presign_get(self, key: str, expires_s: int, download_name: str = "") -> str: ...

    async def abort_incomplete_uploads(self, prefix: str, older_than_ms: int) -> int:
        """Aborts multipart uploads under `prefix` started before `older_than_ms`; their count."""
        ...


@dataclass(frozen=True)
class RenderedPicture:
    """A rendition written to a local file: JPEG bytes and their pixel size."""

    path: str
    width: int
    height: int
    size_bytes: int


class MediaProbe(Protocol):
    """Reads what a file really is, by content (never by name), and derives its renditions.

    Contract: blocking and CPU-bound (run it in a worker thread); touches only the given paths.
    `probe` looks for what the upload's kind needs (images: an image; audio and video: an
    audio/video container; files: the magic-number type only) and never raises for unreadable
    or unknown content: it reports what it found (an empty format when none of the media
    formats). `render` writes JPEG renditions into `out_dir`:
    images get "thumbnail" and "large" (each fitted into its edge x edge box, never enlarged),
    videos get "first_frame" (fitted into the large box); other kinds get none. It raises
    ValueError when the content cannot be decoded after all.
    """

    def probe(self, path: str, kind: MessageType) -> Probed: ...

    def render(
        self, kind: MessageType, path: str, out_dir: str, thumbnail_edge: int, large_edge: int
    ) -> dict[str, RenderedPicture]: ...


class CheckpointStore(Protocol):
    """Durable checkpoints of in-memory folds (Cassandra in production).

    `save` is all-or-nothing for readers: a checkpoint is listed only once every byte of it
    is stored, so a crash while saving leaves nothing half-visible. `ids` lists a fold's
    checkpoints newest first. `load` returns the checkpoint as stored (None once deleted or
    when its bytes are incomplete); it does not judge it: callers unseal it
    (parley.domain.checkpoints), which detects corruption. `delete` is idempotent.
    Not ordered with the event log; each call is one synchronous round trip or more.
    """

    async def save(self, checkpoint: Checkpoint) -> None: ...

    async def ids(self, fold: str) -> list[int]: ...

    async def load(self, fold: str, checkpoint_id: int) -> Checkpoint | None: ...

    async def delete(self, fold: str, checkpoint_id: int) -> None: ...


class MediaArchive(Protocol):
    """Uploads and the messages that carried them, as the projector stored them (Cassandra in
    production): what the media rules need about objects older than the media registry's
    window (parley.domain.media_registry), whose results the caller passes to the rules.

    Contract: read-only (only the projector writes it), so it lags the log by the projector's
    lag, which the registry's window covers. `media` answers, for each id with an upload, its
    owner, description and upload time with every message that carried it, a recalled one
    flagged; ids never uploaded are left out. `objects_of` is the objects a message carried,
    `objects_in_room` the objects a room's messages carried (both empty when none). Idempotent
    reads, not ordered with the event log; each call is one or more round trips.
    """

    async def media(self, object_ids: Sequence[str]) -> dict[str, StoredMedia]: ...

    async def objects_of(self, message_id: str) -> tuple[str, ...]: ...

    async def objects_in_room(self, conversation_key: str) -> list[str]: ...


class MessageArchive(Protocol):
    """Stored messages by id, as the projector wrote them (messages_by_id in Cassandra): what
    the write-side rules need about a message older than the in-memory message index's window
    (a receipt, an owner's recall, a forward, a retried send, GetSendStatus). The caller reads
    it first and passes what it found to the pure rules (parley.message_lookup).

    Contract: read-only (only the projector writes it), so it lags the log by the projector's
    lag; the in-memory window is far longer, so callers ask only about ids the window does not
    hold and a message just sent is never looked for here. `get_many` answers, for each id of a
    message the projector stored, its row (`recalled` once the recall is projected: set, never
    unset); ids of messages never stored (unknown, command or barrage) are left out. Reads are
    idempotent, not ordered with the event log; concurrent callers' reads may share a round
    trip, and a caller that gives up (cancels) affects no other. Raises when the store does
    not answer; nothing is cached.
    """

    async def get_many(self, message_ids: Collection[str]) -> dict[str, ArchivedMessage]: ...


class ProjectionStore(Protocol):
    """Where the projector keeps the read models, each conversation's state and its positions
    (Cassandra in production; the replay tool writes a fresh keyspace through the same port).

    Contract:
    - Every write is an absolute upsert or delete, so writing a batch twice changes nothing
      (at-least-once processing). `write_rows` applies a coalesced batch: no two writes in one
      call touch the same row, so their order does not matter; erasing a history deletes every
      row stored before it.
    - Synchronous: each method returns only once the store has every write (or raises), so the
      projector may order its phases (rows, then states, then positions) and commit offsets
      after the last. Nothing is transactional across calls.
    - `load_states` returns the states saved by `save_states` for the keys that have one, with
      their window of recent messages rebuilt from the stored history rows at or below the
      state's last seq (rows of a batch stored only in part are not part of the state).
    - `lookup_refs` answers, for (conversation key, message id) pairs, the stored message's
      seq, sender and receipt flag; ids stored in another conversation or never stored are left
      out. `lookup_carried` answers the objects a stored media message carried, likewise.
    - `positions` returns the last applied offset per partition of `topic` as `save_positions`
      stored them for `projector` (the last event applied, not the next to read).
    Not ordered with the event log: the caller writes what it folded from it.
    """

    async def write_rows(self, writes: Iterable[RowWrite]) -> None: ...

    async def save_states(self, states: Iterable[ConversationState]) -> None: ...

    async def load_states(self, keys: Iterable[str]) -> dict[str, ConversationState]: ...

    async def lookup_refs(self, wanted: Iterable[tuple[str, str]]) -> dict[str, MessageRef]: ...

    async def lookup_carried(
        self, wanted: Iterable[tuple[str, str]]
    ) -> dict[str, tuple[str, ...]]: ...

    async def save_positions(
        self, projector: str, topic: str, offsets: Mapping[int, int]
    ) -> None: ...

    async def positions(self, projector: str, topic: str) -> dict[int, int]: ...


class ReadModelQueries(Protocol):
    """The read models as the query side reads them back (what a ProjectionStore wrote).

    Contract: read-only and bounded (one row, or a LIMIT); it lags the log by the projector's
    lag. `history` returns the rows of a conversation with lowest <= seq <= highest, newest or
    oldest first, at most `limit`; a recalled message's row has no content. `user_rows` lists a
    user's conversations by key; `mentions` a user's unread mentions by (key, seq);
    `mention_all` the mention-all rows after a seq, newest first; `readers` a message's readers
    by reader id. Missing rows answer None or nothing. Idempotent reads, not cached.
    """

    async def history(
        self, key: str, lowest: int, highest: int, limit: int, newest_first: bool
    ) -> list[HistoryRow]: ...

    async def message(self, key: str, seq: int) -> HistoryRow | None: ...

    async def seq_of(self, key: str, message_id: str) -> int | None: ...

    async def head(self, key: str) -> HeadRow | None: ...

    async def heads(self, keys: Iterable[str]) -> dict[str, HeadRow]: ...

    async def user_rows(self, user_id: str) -> list[UserConversationRow]: ...

    async def user_row(self, user_id: str, key: str) -> UserConversationRow | None: ...

    async def mentions(self, user_id: str, key: str | None = None) -> list[MentionRow]: ...

    async def mention_all(self, key: str, after_seq: int) -> list[MentionAllRow]: ...

    async def readers(self, key: str, seq: int) -> list[ReaderRow]: ...

    async def applied_offsets(self, projector: str, topic: str) -> dict[int, int]: ...


class NoticeSink(Protocol):
    """Publishes per-user notices (Kafka's user-updates topic in production).

    Contract: `publish` returns once the log has acknowledged every notice of the call, or
    raises (then the caller retries the whole batch: at-least-once; subscribers drop
    duplicates by event offset). A user's notices keep their order (keyed by user id).
    """

    async def publish(self, notices: Sequence[Notice]) -> None: ...
