"""A server polls a changing CAP feed; a board at a desa sees a warning come and go."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.e2e.live import Subscriber, live_server, signed_in
from tests.kimgraph.warnings.feed_server import (
    Feed,
    feed_server,
    ketapang_cap,
    reference,
    rss,
)

pytestmark = pytest.mark.asyncio

POLL_SECONDS = 2.0
# The poll interval, plus the hub's delivery and a loaded CI box's scheduling
# (two test processes and their servers on two cores; docs/testing.md). Still
# well short of the board's 30 s deadline: a poll that never came fails anyway.
DELIVERY_MARGIN_S = 15.0
DESA_IN_DELTA_PAWAN = "61.04.16.2006"
WIB = timezone(timedelta(hours=7))
ALERT = "2.49.0.1.360.0.2026.11.29.07.61.001"
# The board's own subscription, as kimgraph/board/board.js sends it.
BOARD_EVENTS = (
    Path(__file__).resolve().parents[2] / "examples" / "board.graphql"
).read_text(encoding="utf-8")
BOARD_EVENTS = BOARD_EVENTS[BOARD_EVENTS.index("subscription BoardEvents") :]
CANCEL = "2.49.0.1.360.0.2026.11.29.07.61.002"


def _wib(offset: timedelta) -> str:
    return (datetime.now(UTC) + offset).astimezone(WIB).isoformat(timespec="seconds")


def _utc(wib: str) -> str:
    """A WIB time as the API writes it: UTC, ISO 8601."""
    return datetime.fromisoformat(wib).astimezone(UTC).isoformat()


@pytest.fixture
def feed() -> Iterator[Feed]:
    with feed_server() as running:
        running.serve("/rss.xml", rss())
        yield running


async def test_a_warning_reaches_the_board_and_its_cancel_removes_it(
    tmp_path: Path, feed: Feed
) -> None:
    env = {
        "KIMGRAPH_WARNINGS_FEED_URL": f"{feed.url}/rss.xml",
        "KIMGRAPH_WARNINGS_POLL_SECONDS": str(POLL_SECONDS),
    }
    with live_server("sqlite", tmp_path, env) as deployment:
        async with signed_in(deployment) as live:
            cursor = await live.cursor(DESA_IN_DELTA_PAWAN)
            board = await Subscriber.follow(
                live.server,
                BOARD_EVENTS,
                {"region": DESA_IN_DELTA_PAWAN, "after": cursor},
            )
            # given an Extreme warning for Benua Kayong and Delta Pawan appears
            sent = effective = _wib(timedelta(minutes=-1))
            expires = _wib(timedelta(hours=2))
            alert = ketapang_cap(ALERT, sent=sent, effective=effective, expires=expires)
            feed.serve("/cap/alert.xml", alert)
            feed.serve("/rss.xml", rss((ALERT, f"{feed.url}/cap/alert.xml")))
            appeared = time.monotonic()
            # then the board shows it within one poll interval
            event = await board.event()
            assert time.monotonic() - appeared < POLL_SECONDS + DELIVERY_MARGIN_S
            shown = event["announcement"]
            assert event["kind"] == "PUBLISHED"
            assert {k: v for k, v in shown.items() if k not in ("id", "body")} == {
                "title": "Hujan Lebat disertai Petir di Kalimantan Barat",
                "category": "DISASTER",
                "priority": "EMERGENCY",
                "status": "ACTIVE",
                "publishedBy": "BMKG (otomatis)",
                "validFrom": _utc(effective),
                "validUntil": _utc(expires),
            }
            assert shown["body"].endswith("\n\nSumber: BMKG")
            # when BMKG cancels it
            cancel = ketapang_cap(
                CANCEL,
                msg_type="Cancel",
                references=reference(ALERT, sent),
                sent=_wib(timedelta(0)),
                expires=_wib(timedelta(hours=2)),
            )
            feed.serve("/cap/cancel.xml", cancel)
            feed.serve(
                "/rss.xml",
                rss(
                    (ALERT, f"{feed.url}/cap/alert.xml"),
                    (CANCEL, f"{feed.url}/cap/cancel.xml"),
                ),
            )
            cancelled = time.monotonic()
            # then the board drops it
            event = await board.event()
            assert time.monotonic() - cancelled < POLL_SECONDS + DELIVERY_MARGIN_S
            assert (event["kind"], event["announcement"]["status"]) == (
                "WITHDRAWN",
                "WITHDRAWN",
            )
            await board.close()
    # each document was fetched once; the unchanged index cost a 304
    paths = [path for path, _ in feed.requests]
    assert paths.count("/cap/alert.xml") == 1
    assert paths.count("/cap/cancel.xml") == 1
    conditional = [
        headers
        for path, headers in feed.requests
        if path == "/rss.xml" and "if-none-match" in {k.lower() for k in headers}
    ]
    assert conditional, feed.requests
