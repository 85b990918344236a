"""HTTP for the feed: conditional GET, timeouts, backoff with jitter, a rate limit.

BMKG allows a client at most 60 requests a minute; RateLimit keeps every
request of this process inside that, retries included.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx

from kimgraph.warnings.cap import MAX_DOCUMENT_BYTES

logger = logging.getLogger("kimgraph.warnings")

MAX_REQUESTS_PER_MINUTE = 60
TIMEOUT = httpx.Timeout(15.0, connect=5.0)
USER_AGENT = "KIMgraph-warnings/1 (+docs/warnings.md)"

Sleep = Callable[[float], Awaitable[None]]


class FetchError(Exception):
    """The document could not be fetched, retries included."""


class RateLimit:
    """At most `limit` requests in any `period` seconds; acquire() waits its turn."""

    def __init__(
        self,
        limit: int = MAX_REQUESTS_PER_MINUTE,
        period: float = 60.0,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.limit = limit
        self.period = period
        self.monotonic = monotonic
        self.sleep = sleep
        self._sent: deque[float] = deque()

    async def acquire(self) -> None:
        while True:
            now = self.monotonic()
            while self._sent and now - self._sent[0] >= self.period:
                self._sent.popleft()
            if len(self._sent) < self.limit:
                self._sent.append(now)
                return
            await self.sleep(self.period - (now - self._sent[0]))


@dataclass(frozen=True, slots=True)
class Fetched:
    """A document, or None when the server said 304 Not Modified."""

    body: bytes | None
    status: int


def backoff(attempt: int, base: float = 1.0, cap: float = 60.0) -> float:
    """Full-jitter exponential backoff: uniform in [0, min(cap, base * 2^attempt)]."""
    return random.uniform(0, min(cap, base * 2**attempt))


@dataclass
class Fetcher:
    """GETs with validators remembered per URL, so unchanged feeds cost a 304."""

    client: httpx.AsyncClient
    rate: RateLimit = field(default_factory=RateLimit)
    sleep: Sleep = asyncio.sleep
    attempts: int = 4
    max_bytes: int = MAX_DOCUMENT_BYTES
    validators: dict[str, dict[str, str]] = field(default_factory=dict)

    async def get(self, url: str, *, conditional: bool = False) -> Fetched:
        """The body (None if not modified); FetchError after the last attempt."""
        headers = dict(self.validators.get(url, {})) if conditional else {}
        failure = "no attempt"
        for attempt in range(self.attempts):
            if attempt:
                await self.sleep(backoff(attempt - 1))
            await self.rate.acquire()
            try:
                fetched = await self._once(url, headers, conditional)
            except httpx.HTTPError as error:
                failure = f"{type(error).__name__}: {error}"
                continue
            except _Retry as retry:
                failure = str(retry)
                if retry.after is not None:
                    await self.sleep(retry.after)
                continue
            return fetched
        raise FetchError(f"GET {url} failed after {self.attempts} attempts: {failure}")

    async def _once(
        self, url: str, headers: dict[str, str], conditional: bool
    ) -> Fetched:
        async with self.client.stream("GET", url, headers=headers) as response:
            if response.status_code == 304:
                return Fetched(None, 304)
            if response.status_code == 429 or response.status_code >= 500:
                raise _Retry(f"HTTP {response.status_code}", _retry_after(response))
            if response.status_code != 200:
                raise FetchError(f"GET {url}: HTTP {response.status_code}")
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > self.max_bytes:
                raise FetchError(f"GET {url}: larger than {self.max_bytes} bytes")
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > self.max_bytes:
                    raise FetchError(f"GET {url}: larger than {self.max_bytes} bytes")
            if conditional:
                self.validators[url] = _validators(response)
            return Fetched(bytes(body), 200)


class _Retry(Exception):
    def __init__(self, message: str, after: float | None) -> None:
        super().__init__(message)
        self.after = after


def _retry_after(response: httpx.Response) -> float | None:
    raw = response.headers.get("retry-after", "")
    return min(float(raw), 300.0) if raw.isdigit() else None


def _validators(response: httpx.Response) -> dict[str, str]:
    found = {}
    if etag := response.headers.get("etag"):
        found["if-none-match"] = etag
    if modified := response.headers.get("last-modified"):
        found["if-modified-since"] = modified
    return found


def new_client() -> httpx.AsyncClient:
    """The poller's HTTP client: timeouts, a user agent, redirects followed."""
    return httpx.AsyncClient(
        timeout=TIMEOUT,
        headers={"user-agent": USER_AGENT},
        follow_redirects=True,
        max_redirects=3,
    )
