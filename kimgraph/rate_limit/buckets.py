"""Token buckets, and the in-process store that keeps them (docs/domain.md, "Limits").

A limited action takes one token from each of several buckets at once, all or
none: a sign-in spends from its address's bucket, its (username, address)
bucket and its username's bucket in one step, before the password is checked,
so concurrent attempts cannot all slip past a check made earlier.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Limit:
    """A burst of `capacity` actions, refilled at `per_second`."""

    capacity: int
    per_second: float

    def __post_init__(self) -> None:
        if self.capacity < 1 or self.per_second <= 0:
            raise ValueError("a rate limit needs capacity >= 1 and per_second > 0")

    @property
    def fill_seconds(self) -> float:
        """How long an empty bucket takes to fill: after that it is as if new."""
        return self.capacity / self.per_second


@dataclass(frozen=True, slots=True)
class Bucket:
    """One key's allowance under one limit (key names the limit too)."""

    key: str
    limit: Limit


# A step takes one token from every group; within a group from the first bucket
# that has one (a fallback allowance, e.g. per address once a username's is spent).
Groups = Sequence[Sequence[Bucket]]


@dataclass(frozen=True, slots=True)
class Taken:
    """What a take did: wait 0 and the buckets spent, or the wait and nothing spent."""

    wait: float
    spent: tuple[Bucket, ...] = ()
    shared: bool = False

    @property
    def allowed(self) -> bool:
        return self.wait <= 0

    @property
    def retry_after(self) -> int:
        """Whole seconds to wait, at least 1 (the HTTP Retry-After value)."""
        return max(1, math.ceil(self.wait))


class LimitStore(Protocol):
    """Where buckets live: this process (MemoryStore) or Redis (RedisStore)."""

    async def take(self, now: float, groups: Groups) -> Taken:
        """Spend one token of every group at time `now` (seconds), all or none."""
        ...

    async def give_back(self, now: float, taken: Taken) -> None:
        """Return the tokens of a take (a sign-in that succeeded costs nothing)."""
        ...

    async def close(self) -> None: ...


@dataclass(slots=True)
class _State:
    tokens: float
    updated: float
    limit: Limit

    def refill(self, now: float) -> float:
        elapsed = max(0.0, now - self.updated)
        self.tokens = min(
            float(self.limit.capacity), self.tokens + elapsed * self.limit.per_second
        )
        self.updated = max(self.updated, now)
        return self.tokens


class MemoryStore:
    """Buckets in this process; the store without Redis, and Redis's fallback.

    Every method runs without awaiting, so on the event loop a take is atomic.
    At most `max_keys` buckets are kept: full ones are dropped first (a full
    bucket is the same as none), then the longest idle.
    """

    def __init__(self, max_keys: int = 100_000) -> None:
        self.max_keys = max_keys
        self.buckets: dict[str, _State] = {}

    async def take(self, now: float, groups: Groups) -> Taken:
        return self.take_now(now, groups)

    async def give_back(self, now: float, taken: Taken) -> None:
        self.give_back_now(now, taken)

    async def close(self) -> None:
        return None

    def take_now(self, now: float, groups: Groups) -> Taken:
        """take, synchronously."""
        chosen: list[Bucket] = []
        wait = 0.0
        for group in groups:
            waits = []
            for bucket in group:
                tokens = self._tokens(bucket, now)
                if tokens >= 1:
                    chosen.append(bucket)
                    break
                waits.append((1 - tokens) / bucket.limit.per_second)
            else:
                wait = max(wait, min(waits))
        if wait > 0:
            return Taken(wait)
        for bucket in chosen:
            self._set(bucket, self._tokens(bucket, now) - 1, now)
        return Taken(0.0, tuple(chosen))

    def give_back_now(self, now: float, taken: Taken) -> None:
        """give_back, synchronously."""
        for bucket in taken.spent:
            if bucket.key in self.buckets:
                tokens = min(bucket.limit.capacity, self._tokens(bucket, now) + 1)
                self._set(bucket, tokens, now)

    def wait(self, now: float, bucket: Bucket) -> float:
        """Seconds until bucket has a token (0 if it has one now)."""
        tokens = self._tokens(bucket, now)
        return max(0.0, (1 - tokens) / bucket.limit.per_second)

    def _tokens(self, bucket: Bucket, now: float) -> float:
        state = self.buckets.get(bucket.key)
        return float(bucket.limit.capacity) if state is None else state.refill(now)

    def _set(self, bucket: Bucket, tokens: float, now: float) -> None:
        state = self.buckets.get(bucket.key)
        if state is None:
            if len(self.buckets) >= self.max_keys:
                self._forget(now)
            self.buckets[bucket.key] = _State(tokens, now, bucket.limit)
        else:
            state.tokens, state.updated = tokens, max(state.updated, now)

    def _forget(self, now: float) -> None:
        # A full bucket is the same as no bucket: dropping it bounds memory.
        for key, state in list(self.buckets.items()):
            if state.refill(now) >= state.limit.capacity:
                del self.buckets[key]
        if len(self.buckets) >= self.max_keys:
            # Still full of active clients: forget the longest-idle half.
            by_age = sorted(self.buckets, key=lambda k: self.buckets[k].updated)
            for key in by_age[: max(1, len(by_age) // 2)]:
                del self.buckets[key]
