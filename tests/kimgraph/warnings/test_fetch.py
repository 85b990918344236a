"""The feed client: conditional GET, retries with backoff, size limit, rate limit."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio

from kimgraph.warnings.fetch import Fetcher, FetchError, RateLimit
from tests.kimgraph.warnings.feed_server import Feed, feed_server

pytestmark = pytest.mark.asyncio


class Sleeps:
    """A sleep that records how long it was asked to wait, and waits not at all."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest_asyncio.fixture
async def feed() -> AsyncIterator[Feed]:
    with feed_server() as running:
        yield running


@pytest_asyncio.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(trust_env=False, timeout=10) as c:
        yield c


async def test_an_unchanged_index_costs_a_304(
    feed: Feed, client: httpx.AsyncClient
) -> None:
    feed.serve("/rss.xml", b"<rss/>")
    fetcher = Fetcher(client, sleep=Sleeps())
    first = await fetcher.get(f"{feed.url}/rss.xml", conditional=True)
    second = await fetcher.get(f"{feed.url}/rss.xml", conditional=True)
    assert (first.body, first.status, second.body, second.status) == (
        b"<rss/>",
        200,
        None,
        304,
    )
    sent = {k.lower(): v for k, v in feed.requests[1][1].items()}
    assert (
        sent["if-none-match"]
        == fetcher.validators[f"{feed.url}/rss.xml"]["if-none-match"]
    )


async def test_server_errors_are_retried_with_backoff(
    feed: Feed, client: httpx.AsyncClient
) -> None:
    feed.serve("/cap.xml", b"<alert/>")
    feed.failures["/cap.xml"] = [503, 429]
    sleeps = Sleeps()
    fetched = await Fetcher(client, sleep=sleeps).get(f"{feed.url}/cap.xml")
    assert fetched.body == b"<alert/>"
    assert len(feed.requests) == 3
    # full jitter: attempt n waits at most 2^(n-1) s
    assert len(sleeps.delays) == 2
    assert 0 <= sleeps.delays[0] <= 1
    assert 0 <= sleeps.delays[1] <= 2


async def test_after_the_last_attempt_it_fails(
    feed: Feed, client: httpx.AsyncClient
) -> None:
    feed.failures["/cap.xml"] = [500, 500, 500, 500]
    with pytest.raises(FetchError) as raised:
        await Fetcher(client, sleep=Sleeps()).get(f"{feed.url}/cap.xml")
    assert str(raised.value) == (
        f"GET {feed.url}/cap.xml failed after 4 attempts: HTTP 500"
    )


async def test_a_missing_document_is_not_retried(
    feed: Feed, client: httpx.AsyncClient
) -> None:
    with pytest.raises(FetchError) as raised:
        await Fetcher(client, sleep=Sleeps()).get(f"{feed.url}/none.xml")
    assert str(raised.value) == f"GET {feed.url}/none.xml: HTTP 404"
    assert len(feed.requests) == 1


async def test_an_oversize_document_is_cut_off(
    feed: Feed, client: httpx.AsyncClient
) -> None:
    feed.serve("/big.xml", b"x" * 2000)
    with pytest.raises(FetchError) as raised:
        await Fetcher(client, sleep=Sleeps(), max_bytes=1000).get(f"{feed.url}/big.xml")
    assert str(raised.value) == f"GET {feed.url}/big.xml: larger than 1000 bytes"


async def test_the_rate_limit_allows_60_requests_a_minute() -> None:
    now = [0.0]
    sleeps = Sleeps()

    async def sleep(seconds: float) -> None:
        await sleeps(seconds)
        now[0] += seconds

    rate = RateLimit(monotonic=lambda: now[0], sleep=sleep)
    for _ in range(60):
        await rate.acquire()
        now[0] += 0.5
    assert sleeps.delays == []
    # the 61st waits until the first of the minute is 60 s old
    await rate.acquire()
    assert sleeps.delays == [30.0]
    assert now[0] == 60.0
