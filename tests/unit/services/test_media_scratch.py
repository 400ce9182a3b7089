"""Where uploads are staged, and the budget that bounds how many bytes are staged at once."""

from __future__ import annotations

import errno
import os
import tempfile

import pytest

from parley.domain.errors import Reason, Rejected
from services.media.scratch import StagingBudget, no_room_is_busy, scratch_dir_of

SHM_ON_TMPFS = "tmpfs /dev/shm tmpfs rw,nosuid,nodev 0 0\n/dev/vda / ext4 rw,relatime 0 0\n"
SHM_ON_DISK = "/dev/vda /dev/shm ext4 rw 0 0\n/dev/vda / ext4 rw,relatime 0 0\n"


def test_scratch_dir__a_setting_wins() -> None:
    assert scratch_dir_of("/srv/staging", SHM_ON_TMPFS) == "/srv/staging"


def test_scratch_dir__a_writable_tmpfs_at_dev_shm_is_chosen() -> None:
    assert scratch_dir_of("", SHM_ON_TMPFS) == "/dev/shm"


def test_scratch_dir__without_a_tmpfs_the_system_temp_directory() -> None:
    assert scratch_dir_of("", SHM_ON_DISK) == tempfile.gettempdir()
    assert scratch_dir_of("", "") == tempfile.gettempdir()


def busy_reason(call: object) -> Reason:
    with pytest.raises(Rejected) as caught:
        call()  # type: ignore[operator]
    return caught.value.reason


def test_staging_budget__claims_grow_up_to_the_limit_and_are_given_back() -> None:
    budget = StagingBudget(100)
    with budget.claim() as first:
        first.grow_to(60)
        first.grow_to(40)  # never shrinks while the upload lasts
        assert budget.used == 60
        with budget.claim() as second:
            second.grow_to(40)
            assert budget.used == 100
            assert busy_reason(lambda: second.grow_to(41)) is Reason.MEDIA_SERVER_BUSY
            assert (second.bytes, budget.used) == (40, 100)  # a refused claim takes nothing
        assert budget.used == 60
    assert budget.used == 0


def test_staging_budget__a_failed_upload_gives_its_bytes_back() -> None:
    budget = StagingBudget(100)
    with pytest.raises(RuntimeError), budget.claim() as claim:
        claim.grow_to(70)
        raise RuntimeError("the client went away")
    assert budget.used == 0


def test_no_room_is_busy__a_full_staging_space_is_a_retryable_refusal() -> None:
    def full() -> None:
        with no_room_is_busy():
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    assert busy_reason(full) is Reason.MEDIA_SERVER_BUSY
    with pytest.raises(PermissionError), no_room_is_busy():
        raise PermissionError(errno.EACCES, "other errors pass")
