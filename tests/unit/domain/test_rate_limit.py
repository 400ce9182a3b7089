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


def emptied(rate: int) -> RateLimiter:
    """A limiter of `rate` per second whose key "alice" spent its whole burst at time 0."""
    limiter = RateLimiter(rate)
    for _ in range(rate):
        limiter.check("alice", 0)
    return limiter


def test_rate_limiter__refills_one_token_per_tenth_of_a_second() -> None:
    limiter = emptied(10)
    assert rejected(limiter, "alice", 99)
    limiter.check("alice", 100)
    assert rejected(limiter, "alice", 100)


def test_rate_limiter__full_again_after_a_second() -> None:
    limiter = emptied(10)
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


def retry_after_ms(limiter: RateLimiter, key: str, now_ms: int) -> int:
    with pytest.raises(Rejected) as raised:
        limiter.check(key, now_ms)
    assert raised.value.retry_after_ms is not None
    return raised.value.retry_after_ms


def test_rate_limiter__rejection_says_when_the_next_send_passes() -> None:
    limiter = emptied(10)
    # 30 ms refilled 0.3 of a token; the rest takes 70 ms more.
    assert retry_after_ms(limiter, "alice", 30) == 70
    assert rejected(limiter, "alice", 99)
    limiter.check("alice", 100)


@pytest.mark.parametrize("rate", [1, 3, 7, 10, 999])
@pytest.mark.parametrize("quarter", [0, 1, 2, 3])
def test_rate_limiter__retry_after_is_exact(rate: int, quarter: int) -> None:
    # Rejected some way into the refill of the next token, which takes ceil(1000 / rate) ms.
    elapsed_ms = -(-1000 // rate) * quarter // 4
    wait = retry_after_ms(emptied(rate), "alice", elapsed_ms)
    if wait > 1:
        assert rejected(emptied(rate), "alice", elapsed_ms + wait - 1)
    emptied(rate).check("alice", elapsed_ms + wait)


def test_rate_limiter__retry_after_waits_out_a_clock_stepped_back() -> None:
    limiter = RateLimiter(1)
    limiter.check("alice", 10_000)
    # Tokens refill only once the clock passes 10,000 again: 5,000 ms, then a whole second.
    assert retry_after_ms(limiter, "alice", 5_000) == 6_000
    assert rejected(limiter, "alice", 10_999)
    limiter.check("alice", 11_000)


def test_rate_limiter__rejects_nonsense_configuration() -> None:
    with pytest.raises(ValueError):
        RateLimiter(0)
