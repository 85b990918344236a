"""The read cache: one execution and one encoding for identical public reads.

A board loads the same query with the same variables as every other board of
its desa, and nothing in the answer changes between two events. So the HTTP
answer (its bytes, and their gzip) is kept under (document, variables,
operation name, media type, visibility class, event-log position, generation)
and served again until any of them moves; docs/performance.md ("The read
cache") says what is cached and why the answer is never stale.

- Only documents whose every field is in CACHEABLE_FIELDS (kimgraph.cacheable,
  with the other rules of what may be kept): data that changes only through
  logged events (announcements) or through time at a known instant
  (validFrom, validUntil). KIM, region names (`kimgraph regions import` logs no
  event), aspirations (deadlines pass without a timer) and accounts are not.
- Only the public visibility class: anonymous callers and partner keys, who read
  no scheduled announcement and no personal data. Signed-in accounts never.
- Only queries, only 200 answers without errors, within a byte budget.
- The position is the hub's; a mutation in this process bumps the generation
  before its answer is sent (CacheableReads), so a read that starts after a
  mutation returned never gets an answer from before it.
- Time: every entry keeps until the next validFrom or validUntil of any
  announcement, when the answer can change with no event at all.
"""

from __future__ import annotations

import asyncio
import gzip
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

from graphql import DocumentNode, GraphQLSchema
from starlette.requests import Request
from starlette.responses import Response
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType as StrawberryOperationType

from kimgraph.accounts.principals import ANONYMOUS
from kimgraph.byte_lru import ByteBoundedLru
from kimgraph.cacheable import (
    NEVER,
    document_cacheable,
    next_change,
    request_identity,
    visibility_class,
)
from kimgraph.clock import Clock, SystemClock
from kimgraph.documents import DocumentCache
from kimgraph.graphql_http import prefers_graphql_response

logger = logging.getLogger("kimgraph.read_cache")

GZIP_MINIMUM_BYTES = 1024  # as kimgraph.http_edge compresses
GZIP_LEVEL = 9  # Starlette's GZipMiddleware's
# What an entry weighs besides its bodies: its key, the dict and tuple slots.
ENTRY_OVERHEAD_BYTES = 400
_MEMO_KEY = "kimgraph.read_cache.cacheable"
_KEY = "read_cache_key"
_UNTIL = "read_cache_until"
_CACHEABLE = "read_cache_cacheable"
_PROBE = "read_cache_probe"
# Hashes of documents known not to be cacheable, kept so as not to look them up.
MAX_UNCACHEABLE = 1024
# Documents that executed once and were found cacheable: looked up from then on.
MAX_CACHEABLE = 1024


@dataclass(frozen=True, slots=True)
class Entry:
    """One cached answer: its bytes, gzipped too if large, and until when it holds."""

    body: bytes
    gzipped: bytes | None
    media_type: str
    until: datetime


Key = tuple[str, str, str | None, bool, str, int, int]


class ReadCache:
    """Answers of public queries by key, within a byte budget (0: off)."""

    def __init__(self, max_bytes: int, *, recheck_seconds: float = 2.0) -> None:
        self.enabled = max_bytes > 0
        self.recheck_seconds = recheck_seconds
        self.hits = 0
        self.misses = 0
        self.generation = 0
        self._entries: ByteBoundedLru[Key, Entry] = ByteBoundedLru(
            max_bytes, max(max_bytes // 8, 1)
        )
        self._position: Callable[[], int] = lambda: 0
        self._clock: Clock = SystemClock()
        self._until = NEVER
        self._checked: tuple[float, int, int] | None = None  # at, position, generation
        self._lock = asyncio.Lock()
        self._recheck: asyncio.Task[None] | None = None
        # Documents that executed and were found not cacheable: not looked up.
        self._uncacheable: set[str] = set()
        # Documents that executed and were found cacheable. A document not yet
        # seen is only run: a refused or unknown one costs no lookup and no
        # read of the next announcement change.
        self._cacheable: set[str] = set()

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def total_bytes(self) -> int:
        return self._entries.total_bytes

    def follow(self, position: Callable[[], int], clock: Clock) -> None:
        """Read the event-log position (the hub's) and the time from these."""
        self._position = position
        self._clock = clock

    def changed(self) -> None:
        """A mutation ran in this process: no answer from before it is served."""
        self.generation += 1
        self._checked = None

    async def hit(self, request: Request) -> Response | None:
        """The cached answer to this request, or None (then keep() may store it)."""
        if not self.enabled or request.method != "POST":
            return None
        media_type = request.headers.get("content-type", "").split(";")[0]
        if media_type.strip().lower() != "application/json":
            return None  # answered by the view (415, say), never from here
        principal = getattr(request.state, "principal", ANONYMOUS)
        visibility = visibility_class(principal)
        if visibility is None:
            return None
        identity = request_identity(await request.body())
        if identity is None:
            return None
        document, variables, operation = identity
        if document in self._uncacheable:
            return None
        if document not in self._cacheable:
            setattr(request.state, _PROBE, document)
            return None
        now = self._clock.now()
        await self._check_time(now)
        accept = request.headers.get("accept")
        key: Key = (
            document, variables, operation, prefers_graphql_response(accept),
            visibility, self._position(), self.generation,
        )  # fmt: skip
        entry = self._entries.get(key)
        if entry is not None and now < entry.until:
            self.hits += 1
            return _response(entry, request.headers.get("accept-encoding", ""))
        self.misses += 1
        request.state.read_cache_key = key
        request.state.read_cache_until = self._until
        return None

    def keep(self, request: Request, response: Response) -> None:
        """Store the answer hit() missed, if it is a cacheable query's success."""
        cacheable = getattr(request.state, _CACHEABLE, None)
        probe: str | None = getattr(request.state, _PROBE, None)
        if probe is not None:
            # First sight of the document: learn whether it may be cached.
            if cacheable is False:
                _remember(self._uncacheable, probe, MAX_UNCACHEABLE)
            elif cacheable:
                _remember(self._cacheable, probe, MAX_CACHEABLE)
            return
        key: Key | None = getattr(request.state, _KEY, None)
        if key is None:
            return
        if cacheable is False:
            _remember(self._uncacheable, key[0], MAX_UNCACHEABLE)
        if not cacheable:
            return
        body = response.body
        if response.status_code != 200 or not isinstance(body, bytes):
            return
        if getattr(request.state, "graphql_request_error", False):
            return
        until: datetime = getattr(request.state, _UNTIL)
        # The answer was read before now: it holds until the next change known
        # when it started only if that is still ahead (else it may be from
        # either side of it).
        if not self._clock.now() < until:
            return
        gzipped = (
            gzip.compress(body, GZIP_LEVEL, mtime=0)
            if len(body) >= GZIP_MINIMUM_BYTES
            else None
        )
        media_type = response.headers.get("content-type", "application/json")
        entry = Entry(body, gzipped, media_type, until)
        size = len(body) + len(gzipped or b"") + len(key[0]) + len(key[1])
        self._entries.put(key, entry, size + ENTRY_OVERHEAD_BYTES)

    async def _check_time(self, now: datetime) -> None:
        """Know the next validFrom/validUntil: at the latest every recheck_seconds.

        Another process may publish a scheduled announcement without an event;
        so the next change is read again after every new position, every
        mutation here, when it passes, and every recheck_seconds. A change
        found earlier than the one known retires every entry (generation).
        """
        checked = self._checked
        position = self._position()
        if (
            checked is not None
            and now < self._until
            and checked[1] == position
            and checked[2] == self.generation
        ):
            due = time.monotonic() - checked[0] >= self.recheck_seconds
            if due and (self._recheck is None or self._recheck.done()):
                # Only another process's new schedule can be missed until then
                # (bounded by recheck_seconds anyway): no request waits for it.
                self._recheck = asyncio.create_task(
                    self._read_next_change(checked, position, now, background=True)
                )
            return
        await self._read_next_change(checked, position, now)

    async def _read_next_change(
        self,
        checked: tuple[float, int, int] | None,
        position: int,
        now: datetime,
        *,
        background: bool = False,
    ) -> None:
        async with self._lock:
            if self._checked is not checked:
                return  # another request read it meanwhile
            # A mutation returning while this reads makes it read again.
            generation = self.generation
            try:
                until = await next_change(now)
            except Exception:  # the next request reads again
                if not background:
                    raise
                logger.warning(
                    "reading the next announcement change failed", exc_info=True
                )
                return
            if until < self._until and checked is not None:
                self.generation += 1  # entries kept until a later time: retired
                generation += 1
            self._until = until
            self._checked = (time.monotonic(), position, generation)

    def metrics(self) -> str:
        """Prometheus exposition lines for /metrics."""
        lines = [
            "# HELP kimgraph_read_cache_hits_total Public reads answered from the "
            "read cache.",
            "# TYPE kimgraph_read_cache_hits_total counter",
            f"kimgraph_read_cache_hits_total {self.hits}",
            "# HELP kimgraph_read_cache_misses_total Public reads the read cache "
            "did not hold.",
            "# TYPE kimgraph_read_cache_misses_total counter",
            f"kimgraph_read_cache_misses_total {self.misses}",
            "# HELP kimgraph_read_cache_entries Answers in the read cache.",
            "# TYPE kimgraph_read_cache_entries gauge",
            f"kimgraph_read_cache_entries {len(self)}",
            "# HELP kimgraph_read_cache_bytes What the read cache's answers weigh.",
            "# TYPE kimgraph_read_cache_bytes gauge",
            f"kimgraph_read_cache_bytes {self.total_bytes}",
        ]
        return "\n".join(lines) + "\n"


def _remember(documents: set[str], document: str, most: int) -> None:
    """Add to a bounded set of document hashes (emptied when full)."""
    if len(documents) >= most:
        documents.clear()
    documents.add(document)


def _response(entry: Entry, accept_encoding: str) -> Response:
    if entry.gzipped is not None and "gzip" in accept_encoding:
        response = Response(entry.gzipped, media_type=entry.media_type)
        response.headers["content-encoding"] = "gzip"
        response.headers["vary"] = "Accept-Encoding"
        return response
    return Response(entry.body, media_type=entry.media_type)


class CacheableReads(SchemaExtension):
    """Marks an executed public query cacheable; a mutation retires the cache.

    The mutation's transaction committed (and rang its doorbell) inside its
    resolver, so the generation moves after the commit and before the answer
    is sent, over HTTP or a socket alike.
    """

    def __init__(self, cache: ReadCache, documents: DocumentCache) -> None:
        self.cache = cache
        self.documents = documents

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        mutation = context.operation_type is StrawberryOperationType.MUTATION
        try:
            yield
        finally:
            if mutation:
                self.cache.changed()
        result = context.result
        request = getattr(context.context, "request", None)
        if request is None or context.graphql_document is None:
            return
        if context.operation_type is not StrawberryOperationType.QUERY:
            request.state.read_cache_cacheable = False
            return
        if result is None or result.errors:
            return  # not kept; the document may still be cacheable
        request.state.read_cache_cacheable = self.cacheable(
            context.schema._schema, context.graphql_document
        )

    def cacheable(self, schema: GraphQLSchema, document: DocumentNode) -> bool:
        memo = self.documents.memo(document)
        if memo is not None and _MEMO_KEY in memo:
            return bool(memo[_MEMO_KEY])
        answer = document_cacheable(schema, document)
        if memo is not None:
            memo[_MEMO_KEY] = answer
        return answer
