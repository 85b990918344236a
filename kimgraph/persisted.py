"""Automatic persisted queries (Apollo's APQ): a hash instead of the document.

A board or partner app on a slow link sends `extensions.persistedQuery`
(`{"version": 1, "sha256Hash": "<hex>"}`) without `query`. A known hash runs
the stored text; an unknown one answers PERSISTED_QUERY_NOT_FOUND (message
"PersistedQueryNotFound", as Apollo clients expect), and the client sends the
document once with its hash, which is checked (PERSISTED_QUERY_HASH_MISMATCH
otherwise, nothing stored) and stored once it parses and validates
(docs/http.md, "Persisted queries").

The store maps hash → text. Like kimgraph.documents' parsed-document cache it
is bounded by bytes, not entries, and keeps no document over a per-document
limit (such a one still runs, sent whole each time). In one process it is an
LRU dict; with KIMGRAPH_REDIS_URL every process shares one LRU in Redis (one
Lua script per store, atomic), and a Redis outage falls back to this process's
own store, as the rate limits do.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass
from typing import Any, Protocol

from graphql.error import GraphQLError

from kimgraph import redis_outage
from kimgraph.byte_lru import ByteBoundedLru

logger = logging.getLogger("kimgraph.persisted")

PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
PERSISTED_QUERY_HASH_MISMATCH = "PERSISTED_QUERY_HASH_MISMATCH"
PERSISTED_QUERY_INVALID = "PERSISTED_QUERY_INVALID"

# Board and example operations are 1-3 KB; 64 KB leaves room for any hand-written
# one. 4 MiB holds over a thousand of them.
MAX_DOCUMENT_BYTES = 64 * 1024
MAX_TOTAL_BYTES = 4 * 1024 * 1024
# What an entry costs besides its text: the 64-character key and the dict slot.
ENTRY_OVERHEAD = 200

DEFAULT_PREFIX = "kimgraph:apq:"


class QueryStore(Protocol):
    """Hash → document text, bounded by bytes."""

    async def get(self, sha256: str) -> str | None: ...

    async def put(self, sha256: str, query: str) -> None: ...

    async def close(self) -> None: ...


def entry_bytes(query: str) -> int:
    return len(query.encode()) + ENTRY_OVERHEAD


class MemoryQueryStore:
    """This process's store: least recently used dropped past max_total_bytes."""

    def __init__(
        self,
        max_total_bytes: int = MAX_TOTAL_BYTES,
        max_document_bytes: int = MAX_DOCUMENT_BYTES,
    ) -> None:
        self._entries: ByteBoundedLru[str, str] = ByteBoundedLru(
            max_total_bytes, max_document_bytes
        )

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def total_bytes(self) -> int:
        return self._entries.total_bytes

    async def get(self, sha256: str) -> str | None:
        return self._entries.get(sha256)

    async def put(self, sha256: str, query: str) -> None:
        if sha256 not in self._entries:
            self._entries.put(sha256, query, entry_bytes(query))

    async def close(self) -> None:
        return None


# KEYS: the texts' hash, the recency sorted set, the byte counter. ARGV: sha,
# text, size, max total. Adds the entry (once), then drops the least recently
# used until the total fits.
_PUT = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
local seq = redis.call('INCR', KEYS[3] .. ':seq')
redis.call('ZADD', KEYS[2], seq, ARGV[1])
local total = redis.call('INCRBY', KEYS[3], tonumber(ARGV[3]))
local overhead = tonumber(ARGV[5])
while total > tonumber(ARGV[4]) do
  local oldest = redis.call('ZPOPMIN', KEYS[2])
  if #oldest == 0 then break end
  local size = redis.call('HSTRLEN', KEYS[1], oldest[1]) + overhead
  redis.call('HDEL', KEYS[1], oldest[1])
  total = redis.call('DECRBY', KEYS[3], size)
end
return 1
"""
# KEYS as _PUT; ARGV: sha. The text, its use recorded.
_GET = """
local text = redis.call('HGET', KEYS[1], ARGV[1])
if text then
  local seq = redis.call('INCR', KEYS[3] .. ':seq')
  redis.call('ZADD', KEYS[2], 'XX', seq, ARGV[1])
end
return text
"""


class RedisQueryStore:
    """One store for every process, in Redis under `prefix`.

    Sizes count the text's bytes (HSTRLEN) plus ENTRY_OVERHEAD, as in memory.
    Redis unreachable: this process's MemoryQueryStore answers until
    `retry_seconds` later (a hash it does not know costs the client one
    round trip, never a failure).
    """

    def __init__(
        self,
        url: str,
        *,
        prefix: str = DEFAULT_PREFIX,
        max_total_bytes: int = MAX_TOTAL_BYTES,
        max_document_bytes: int = MAX_DOCUMENT_BYTES,
        retry_seconds: float = redis_outage.RETRY_SECONDS,
    ) -> None:
        self.keys = [prefix + "texts", prefix + "recency", prefix + "bytes"]
        self.max_total_bytes = max_total_bytes
        self.max_document_bytes = max_document_bytes
        self.retry_seconds = retry_seconds
        self.fallback = MemoryQueryStore(max_total_bytes, max_document_bytes)
        self._client = redis_outage.client(url)
        self._put = self._client.register_script(_PUT)
        self._get = self._client.register_script(_GET)
        self.outage = redis_outage.Outage(
            logger,
            "persisted queries: Redis is unreachable, each process keeps its "
            "own until it answers again",
            "persisted queries: Redis answers again; the store is shared",
            retry_seconds,
        )

    async def get(self, sha256: str) -> str | None:
        if self.outage.skipping(time.monotonic()):
            return await self.fallback.get(sha256)
        try:
            text = await self._get(keys=self.keys, args=[sha256])
        except redis_outage.ERRORS as error:
            self.outage.went_away(time.monotonic(), error)
            return await self.fallback.get(sha256)
        self.outage.came_back()
        return text.decode() if isinstance(text, bytes) else None

    async def put(self, sha256: str, query: str) -> None:
        size = entry_bytes(query)
        if size > self.max_document_bytes:
            return
        if self.outage.skipping(time.monotonic()):
            await self.fallback.put(sha256, query)
            return
        args: list[str | int] = [sha256, query, size, self.max_total_bytes]
        args.append(ENTRY_OVERHEAD)
        try:
            await self._put(keys=self.keys, args=args)
        except redis_outage.ERRORS as error:
            self.outage.went_away(time.monotonic(), error)
            await self.fallback.put(sha256, query)

    async def total_bytes(self) -> int:
        """The bytes the shared store counts (tests, monitoring)."""
        return int(await self._client.get(self.keys[2]) or 0)

    async def close(self) -> None:
        await self._client.aclose()


def query_store(redis_url: str | None) -> QueryStore:
    """Shared through Redis when configured, else this process's own."""
    return RedisQueryStore(redis_url) if redis_url else MemoryQueryStore()


@dataclass(frozen=True, slots=True)
class Resolved:
    """The document to run, and the hash to store it under once it validates."""

    query: str | None
    register: str | None = None


class PersistedQueries:
    """Reads `extensions.persistedQuery` of an operation (Schema.execute)."""

    def __init__(self, store: QueryStore) -> None:
        self.store = store

    async def resolve(
        self, query: str | None, extensions: dict[str, Any] | None
    ) -> Resolved:
        """The operation's document; raises GraphQLError for APQ's refusals."""
        persisted = (extensions or {}).get("persistedQuery")
        if persisted is None:
            return Resolved(query)
        sha256 = _checked_hash(persisted)
        if query is None:
            stored = await self.store.get(sha256)
            if stored is None:
                raise GraphQLError(
                    "PersistedQueryNotFound",
                    extensions={"code": PERSISTED_QUERY_NOT_FOUND},
                )
            return Resolved(stored)
        if hashlib.sha256(query.encode()).hexdigest() != sha256:
            raise GraphQLError(
                "provided sha does not match query",
                extensions={"code": PERSISTED_QUERY_HASH_MISMATCH},
            )
        return Resolved(query, register=sha256)

    async def remember(self, resolved: Resolved) -> None:
        if resolved.register is not None and resolved.query is not None:
            await self.store.put(resolved.register, resolved.query)


def _checked_hash(persisted: object) -> str:
    """The lower-case hex SHA-256 of a version-1 persistedQuery extension."""
    version = persisted.get("version") if isinstance(persisted, dict) else None
    sha256 = persisted.get("sha256Hash") if isinstance(persisted, dict) else None
    if version != 1:
        raise GraphQLError(
            "Unsupported persisted query version: send "
            '{"version": 1, "sha256Hash": "<hex>"}',
            extensions={"code": PERSISTED_QUERY_INVALID},
        )
    if (
        not isinstance(sha256, str)
        or len(sha256) != 64
        or any(c not in "0123456789abcdef" for c in sha256.lower())
    ):
        raise GraphQLError(
            "persistedQuery.sha256Hash must be 64 hexadecimal digits",
            extensions={"code": PERSISTED_QUERY_INVALID},
        )
    return sha256.lower()
