"""Per-client rate limiting: a token bucket per key, on explicit time."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from parley.domain.errors import Reason, Rejected

_MILLI = 1000  # tokens are counted in thousandths so refills stay exact integers


@dataclass
class _Bucket:
    milli_tokens: int
    last_ms: int


class RateLimiter:
    """Allows `burst` requests at once and `rate_per_second` sustained, per client key.

    Time is passed in, so the limiter is pure and tests need no clock. A key idle long enough to
    refill completely is indistinguishable from a new key, so it is forgotten: memory holds only
    the keys active within the last burst/rate seconds.
    """

    def __init__(self, rate_per_second: int, burst: int | None = None) -> None:
        if rate_per_second < 1 or (burst is not None and burst < 1):
            raise ValueError("rate_per_second and burst must be positive")
        self._refill_per_ms = rate_per_second  # milli-tokens per millisecond
        self._capacity = (burst if burst is not None else rate_per_second) * _MILLI
        self._full_after_ms = -(-self._capacity // self._refill_per_ms)
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()  # least recently used first

    def __len__(self) -> int:
        return len(self._buckets)

    def check(self, client_key: str, now_ms: int) -> None:
        """Takes one token for the key, or raises Rejected(RATE_LIMITED) taking none, whose
        retry_after_ms is the wait until the key's next check would pass."""
        self._forget_idle(now_ms)
        bucket = self._buckets.pop(client_key, None) or _Bucket(self._capacity, now_ms)
        # A clock that steps back must not mint tokens; elapsed time is never negative.
        elapsed = max(0, now_ms - bucket.last_ms)
        bucket.milli_tokens = min(
            self._capacity, bucket.milli_tokens + elapsed * self._refill_per_ms
        )
        bucket.last_ms = max(bucket.last_ms, now_ms)
        self._buckets[client_key] = bucket
        if bucket.milli_tokens < _MILLI:
            wait_ms = self._wait_ms(bucket, now_ms)
            raise Rejected(
                Reason.RATE_LIMITED,
                f"too many messages per second: retry in {wait_ms} ms",
                retry_after_ms=wait_ms,
            )
        bucket.milli_tokens -= _MILLI

    def _wait_ms(self, bucket: _Bucket, now_ms: int) -> int:
        """Exact: a check at now_ms + the wait passes, one a millisecond earlier does not. After
        a clock step back, refilling resumes only once the clock is past the bucket's time."""
        missing = _MILLI - bucket.milli_tokens
        return max(0, bucket.last_ms - now_ms) + -(-missing // self._refill_per_ms)

    def _forget_idle(self, now_ms: int) -> None:
        while self._buckets:
            key, oldest = next(iter(self._buckets.items()))
            if now_ms - oldest.last_ms < self._full_after_ms:
                return
            del self._buckets[key]
