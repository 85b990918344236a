"""One limit per client key, e.g. anonymous aspiration submissions per address."""

from __future__ import annotations

from kimgraph.clock import Clock
from kimgraph.rate_limit import refusals
from kimgraph.rate_limit.buckets import Bucket, Limit, LimitStore, MemoryStore, Taken


class RateLimiter:
    """Allows a burst of `capacity` actions per key, refilled at `per_second`.

    `acquire` spends from `store` when one is given (a RedisStore shares the
    allowance between processes), else from this object's own buckets.
    """

    def __init__(
        self,
        clock: Clock,
        *,
        capacity: int,
        per_second: float,
        max_keys: int = 100_000,
        store: LimitStore | None = None,
        name: str = "limit",
    ) -> None:
        self.clock = clock
        self.limit = Limit(capacity, per_second)
        self.capacity = capacity
        self.per_second = per_second
        self.name = name
        self.store: LimitStore = store if store is not None else MemoryStore(max_keys)

    def bucket(self, key: str) -> Bucket:
        return Bucket(f"{self.name}:{key}", self.limit)

    async def acquire(self, key: str) -> Taken:
        """Spend one token of key's bucket, or (nothing spent) say how long to wait.

        A refusal is noted for the HTTP response (kimgraph.rate_limit.refusals).
        """
        taken = await self.store.take(self._now(), [[self.bucket(key)]])
        refusals.note(taken)
        return taken

    def _now(self) -> float:
        return self.clock.now().timestamp()
