"""Token-bucket rate limiting with explicit time."""

from __future__ import annotations

import pytest

from parley.domain.errors import Reason, Rejected
from parley.domain.rate_limit import RateLimiter


def rejected(limiter: RateLimiter, key: str, now_ms: int) -> bool:
    try:
        limiter.check(key, now_ms)
    except Rejected as error:
        assert error.reason is Reason.RATE_LIMITED
        return True
    return False


def test_rate_limiter__ten_per_second_then_the_eleventh_is_rejected() -> None:
    limiter = RateLimiter(10)
    assert [rejected(limiter, "alice", 0) for _ in range(10)] == [False] * 10
    assert rejected(limiter, "alice", 0)
    assert rejected(limiter, "alice", 99)


def test_rate_limiter__keys_are_independent() -> None:
    limiter = RateLimiter(1)
    limiter.check("alice", 0)
    limiter.check("bob", 0)
    assert rejected(limiter, "alice", 0)


def test_rate_limiter__refills_one_token_per_tenth_of_a_second() -> None:
    limiter = RateLimiter(10)
    for _ in range(10):
        limiter.check("alice", 0)
    assert rejected(limiter, "alice", 99)
    limiter.check("alice", 100)
    assert rejected(limiter, "alice", 100)


def test_rate_limiter__full_again_after_a_second() -> None:
    limiter = RateLimiter(10)
    for _ in range(10):
        limiter.check("alice", 0)
    for _ in range(10):
        limiter.check("alice", 1_000)
    assert rejected(limiter, "alice", 1_000)


def test_rate_limiter__sustained_rate_never_exceeds_the_limit() -> None:
    limiter = RateLimiter(10)
    accepted = sum(not rejected(limiter, "alice", now) for now in range(0, 10_000, 10))
    assert accepted == 10 + 99  # the initial burst, then one per full 100 ms up to 9,990 ms


def test_rate_limiter__burst_larger_than_rate() -> None:
    limiter = RateLimiter(1, burst=3)
    for _ in range(3):
        limiter.check("alice", 0)
    assert rejected(limiter, "alice", 0)


def test_rate_limiter__clock_stepping_back_mints_no_tokens() -> None:
    limiter = RateLimiter(1)
    limiter.check("alice", 10_000)
    assert rejected(limiter, "alice", 5_000)
    assert rejected(limiter, "alice", 10_500)


def test_rate_limiter__forgets_idle_keys() -> None:
    limiter = RateLimiter(10)
    for user in range(100):
        limiter.check(f"user{user}", 0)
    assert len(limiter) == 100
    limiter.check("late", 1_000)
    assert len(limiter) == 1


def test_rate_limiter__rejects_nonsense_configuration() -> None:
    with pytest.raises(ValueError):
        RateLimiter(0)
