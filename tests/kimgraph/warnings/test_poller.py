"""One poll round against a local feed; the lease that keeps one poller."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from kimgraph import models
from kimgraph.clock import FixedClock
from kimgraph.models import WarningOutcome
from kimgraph.warnings.areas import load_gazetteer
from kimgraph.warnings.fetch import Fetcher
from kimgraph.warnings.poller import hold_lease, poll_once
from tests.kimgraph.warnings.feed_server import feed_server, ketapang_cap, rss
from tests.people import nobody_listens

pytestmark = pytest.mark.asyncio

ALERT = "2.49.0.1.360.0.2026.11.20.07.61.001"


async def _no_sleep(seconds: float) -> None:
    pass


async def test_a_round_fetches_each_new_document_once(ketapang: str) -> None:
    clock = FixedClock(datetime(2026, 11, 20, 8, 0, tzinfo=UTC))
    gazetteer = await load_gazetteer(None)
    with feed_server() as feed:
        feed.serve("/cap/a.xml", ketapang_cap(ALERT))
        feed.serve(
            "/rss.xml",
            rss(
                (ALERT, "/cap/a.xml"),  # relative to the feed
                ("elsewhere", "http://example.invalid/cap.xml"),
            ),
        )
        async with httpx.AsyncClient(trust_env=False) as client:
            fetcher = Fetcher(client, sleep=_no_sleep)
            url = f"{feed.url}/rss.xml"
            first = await poll_once(clock, nobody_listens, gazetteer, fetcher, url)
            feed.serve("/rss.xml", rss((ALERT, "/cap/a.xml"), ("x", "/cap/x.xml")))
            second = await poll_once(clock, nobody_listens, gazetteer, fetcher, url)
            third = await poll_once(clock, nobody_listens, gazetteer, fetcher, url)
    assert [r.outcome for r in first.results] == [WarningOutcome.PUBLISHED]
    assert first.failures == [
        "elsewhere: http://example.invalid/cap.xml is not on the feed's host"
    ]
    assert second.results == []
    assert second.failures == [f"GET {feed.url}/cap/x.xml: HTTP 404"]
    assert (third.modified, third.results) == (False, [])
    assert [path for path, _ in feed.requests] == [
        "/rss.xml",
        "/cap/a.xml",
        "/rss.xml",
        "/cap/x.xml",
        "/rss.xml",
    ]
    assert await models.Announcement.all().count() == 1


async def test_one_process_holds_the_lease(ketapang: str) -> None:
    clock = FixedClock(datetime(2026, 11, 20, 8, 0, tzinfo=UTC))
    assert await hold_lease(clock, "a", 60)
    assert not await hold_lease(clock, "b", 60)
    assert await hold_lease(clock, "a", 60)  # renewed
    clock.advance(timedelta(seconds=61))
    assert await hold_lease(clock, "b", 60)  # a stopped renewing
    assert not await hold_lease(clock, "a", 60)
