"""Where uploads wait while they are received and validated, and how many bytes may wait.

Every streamed upload is spooled to a file (the probes read files) and every presigned upload
is fetched back into one before it is validated. On disk, that is page-cache and journal work
on the filesystem Kafka and Cassandra write to, done by the kernel whatever the media server's
CPU class. The staging pattern alone (10 files of 1 MB a second, written, read back, removed,
in the background class beside bench-e2e's 200 messages/s, six ABBA rounds) raised the message
p99 by 20% on disk and by 7% on tmpfs. So staging goes to RAM when the host has a tmpfs at
/dev/shm, and a budget keeps it bounded: an upload that would take it past the limit is refused
as retryable, never half-kept.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from parley.domain.errors import Reason, Rejected

SHM = "/dev/shm"
# Out of space where the upload is staged: the same answer as a full budget.
_NO_ROOM = frozenset({errno.ENOSPC, errno.EDQUOT})


def scratch_dir_of(setting: str, mounts: str | None = None) -> str:
    """The staging directory: `setting` when given, else /dev/shm when it is a writable tmpfs,
    else the system temp directory. `mounts` is /proc/self/mounts' text (read when None)."""
    if setting:
        return setting
    if mounts is None:
        try:
            mounts = Path("/proc/self/mounts").read_text()
        except OSError:
            mounts = ""
    on_tmpfs = any(
        fields[1] == SHM and fields[2] == "tmpfs"
        for fields in (line.split() for line in mounts.splitlines())
        if len(fields) >= 3
    )
    if on_tmpfs and os.access(SHM, os.W_OK | os.X_OK):
        return SHM
    return tempfile.gettempdir()


def busy(detail: str) -> Rejected:
    return Rejected(Reason.MEDIA_SERVER_BUSY, f"no room to stage this upload now: {detail}")


@contextlib.contextmanager
def no_room_is_busy() -> Iterator[None]:
    """Turns "no space left" while staging into MEDIA_SERVER_BUSY; other OS errors pass."""
    try:
        yield
    except OSError as error:
        if error.errno in _NO_ROOM:
            raise busy(os.strerror(error.errno)) from error
        raise


class StagingBudget:
    """Bytes of uploads staged at once by one media server (one event loop: no locking).

    Each upload holds a claim that grows with what it declares or has sent; a claim that would
    take the total past the limit is refused, and a finished upload gives its bytes back."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0

    @contextlib.contextmanager
    def claim(self) -> Iterator[Claim]:
        held = Claim(self)
        try:
            yield held
        finally:
            self.used -= held.bytes


class Claim:
    """One upload's share of a StagingBudget."""

    def __init__(self, budget: StagingBudget) -> None:
        self._budget = budget
        self.bytes = 0

    def grow_to(self, total: int) -> None:
        """Holds `total` bytes (never less than held already), or raises MEDIA_SERVER_BUSY."""
        more = total - self.bytes
        if more <= 0:
            return
        budget = self._budget
        if budget.used + more > budget.limit:
            raise busy(f"{budget.used} of {budget.limit} staging bytes are taken")
        budget.used += more
        self.bytes = total
