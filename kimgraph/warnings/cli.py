"""`kimgraph warnings poll`: fetch the BMKG feed once, or keep polling."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator
from typing import Any

from kimgraph import db
from kimgraph.clock import SystemClock
from kimgraph.events.bus import Doorbell
from kimgraph.regions import importer as region_import
from kimgraph.settings import Settings
from kimgraph.warnings.areas import WarningsConfigError, load_gazetteer
from kimgraph.warnings.fetch import Fetcher, FetchError, new_client
from kimgraph.warnings.poller import Poller, poll_once


def add_parser(commands: Any) -> None:
    """Register `warnings poll` on the kimgraph command's subparsers."""
    warnings = commands.add_parser("warnings", help="BMKG early warnings (CAP)")
    sub = warnings.add_subparsers(dest="warnings_command", required=True)
    poll = sub.add_parser("poll", help="fetch the CAP RSS feed and act on new warnings")
    poll.add_argument("--feed", help="the RSS index URL (KIMGRAPH_WARNINGS_FEED_URL)")
    poll.add_argument("--once", action="store_true", help="one round, then exit")


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run `warnings poll`; 0 on success, 1 on a failed round, 2 on bad setup."""
    feed = args.feed or settings.warnings_feed_url
    if feed is None:
        print(
            "kimgraph: give --feed URL or set KIMGRAPH_WARNINGS_FEED_URL",
            file=sys.stderr,
        )
        return 2
    return asyncio.run(_poll(settings, feed, once=args.once))


async def _poll(settings: Settings, feed: str, *, once: bool) -> int:
    await db.migrate(settings.database_url)
    await db.init(settings.database_url)
    try:
        if not await region_import.has_regions():
            await region_import.load_bundled_seed()
        try:
            gazetteer = await load_gazetteer(
                settings.warnings_kabupaten, settings.warnings_aliases
            )
        except WarningsConfigError as error:
            print(f"kimgraph: {error}", file=sys.stderr)
            return 2
        clock = SystemClock()
        async with _doorbell(settings) as doorbell:
            fetcher = Fetcher(new_client())
            if not once:
                poller = Poller(
                    clock,
                    doorbell,
                    gazetteer,
                    fetcher,
                    feed,
                    settings.warnings_poll_seconds,
                )
                try:
                    await poller.run()
                finally:
                    await poller.close()
            try:
                result = await poll_once(clock, doorbell, gazetteer, fetcher, feed)
            except FetchError as error:
                print(f"kimgraph: {error}", file=sys.stderr)
                return 1
            finally:
                await fetcher.client.aclose()
        if not result.modified:
            print("the feed has not changed")
        for item in result.results:
            if not item.seen:
                print(
                    f"{item.outcome}: announcement {item.announcement_id or '-'}, "
                    f"review {item.review_id or '-'}"
                    + (f" ({item.note})" if item.note else "")
                )
        for failure in result.failures:
            print(f"failed: {failure}", file=sys.stderr)
        return 1 if result.failures else 0
    finally:
        await db.close()


@contextlib.asynccontextmanager
async def _doorbell(settings: Settings) -> AsyncIterator[Doorbell]:
    """Rings the servers over Redis if configured; without it they poll the log."""
    if settings.redis_url is None:
        yield _nobody_rings
        return
    from kimgraph.events.redis_bus import RedisBus  # only when Redis is configured

    bus = RedisBus(settings.redis_url)
    await bus.start()
    try:
        yield bus.publish
    finally:
        await bus.close()


async def _nobody_rings(position: int, /) -> None:
    """Without Redis, servers find the poller's events by polling the event log."""
