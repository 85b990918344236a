"""Rate limits: token buckets in this process or, shared, in Redis.

docs/domain.md ("Limits") has the rules; README the settings.
"""

from kimgraph.rate_limit.addresses import client_key
from kimgraph.rate_limit.buckets import Bucket, Limit, LimitStore, MemoryStore, Taken
from kimgraph.rate_limit.limiter import RateLimiter
from kimgraph.rate_limit.redis_store import RedisStore


def limit_store(redis_url: str | None) -> LimitStore:
    """Redis when the processes share one (KIMGRAPH_REDIS_URL), else this process."""
    return RedisStore(redis_url) if redis_url else MemoryStore()


__all__ = [
    "Bucket",
    "Limit",
    "LimitStore",
    "MemoryStore",
    "RateLimiter",
    "RedisStore",
    "Taken",
    "client_key",
    "limit_store",
]
