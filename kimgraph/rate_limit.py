"""A small in-process token bucket per client key (e.g. a caller's IP address)."""

from __future__ import annotations

from dataclasses import dataclass

from kimgraph.clock import Clock


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Allows a burst of `capacity` actions per key, refilled at `per_second`.

    State lives in this process only: with N server processes a client gets at
    most N times the allowance, which is enough to stop a flood from one client.
    """

    def __init__(
        self,
        clock: Clock,
        *,
        capacity: int,
        per_second: float,
        max_keys: int = 100_000,
    ) -> None:
        if capacity < 1 or per_second <= 0:
            raise ValueError("a rate limit needs capacity >= 1 and per_second > 0")
        self.clock = clock
        self.capacity = capacity
        self.per_second = per_second
        self.max_keys = max_keys
        self._buckets: dict[str, _Bucket] = {}

    def take(self, key: str) -> bool:
        """Spend one token of key's bucket; False (and nothing spent) if it is empty."""
        now = self.clock.now().timestamp()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self.max_keys:
                self._forget_full(now)
            bucket = self._buckets[key] = _Bucket(float(self.capacity), now)
        else:
            self._refill(bucket, now)
        if bucket.tokens < 1:
            return False
        bucket.tokens -= 1
        return True

    def retry_after(self, key: str) -> float:
        """Seconds until key may act again (0 if it may now)."""
        bucket = self._buckets.get(key)
        if bucket is None:
            return 0.0
        self._refill(bucket, self.clock.now().timestamp())
        return max(0.0, (1 - bucket.tokens) / self.per_second)

    def _refill(self, bucket: _Bucket, now: float) -> None:
        elapsed = max(0.0, now - bucket.updated)
        bucket.tokens = min(self.capacity, bucket.tokens + elapsed * self.per_second)
        bucket.updated = now

    def _forget_full(self, now: float) -> None:
        # A full bucket is the same as no bucket: dropping it bounds memory.
        for key, bucket in list(self._buckets.items()):
            self._refill(bucket, now)
            if bucket.tokens >= self.capacity:
                del self._buckets[key]
        if len(self._buckets) >= self.max_keys:
            # Still full of active clients: forget the longest-idle half.
            by_age = sorted(self._buckets, key=lambda k: self._buckets[k].updated)
            for key in by_age[: len(by_age) // 2]:
                del self._buckets[key]
