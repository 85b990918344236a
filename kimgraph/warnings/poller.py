"""Poll the RSS index, fetch each new CAP document, ingest it; one poller at a time.

Several processes may run `kimgraph serve` on one database: the one holding
the lease (a row with an expiry, taken by a conditional UPDATE) polls, so
BMKG's rate limit holds for the deployment, not per process. Whoever polls,
the idempotency key makes a message count once (docs/warnings.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urljoin, urlsplit

from tortoise.exceptions import IntegrityError

from kimgraph import models
from kimgraph.clock import Clock
from kimgraph.events.bus import Doorbell
from kimgraph.warnings import cap
from kimgraph.warnings.areas import Gazetteer
from kimgraph.warnings.fetch import Fetcher, FetchError, backoff
from kimgraph.warnings.ingest import Ingested, ingest

logger = logging.getLogger("kimgraph.warnings")
LEASE_ID = 1
MAX_BACKOFF_S = 600.0


@dataclass
class Round:
    """What one poll did."""

    modified: bool = False
    results: list[Ingested] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


async def poll_once(
    clock: Clock,
    doorbell: Doorbell,
    gazetteer: Gazetteer,
    fetcher: Fetcher,
    feed_url: str,
) -> Round:
    """Fetch the index (conditionally) and every document not seen before."""
    result = Round()
    fetched = await fetcher.get(feed_url, conditional=True)
    if fetched.body is None:
        return result
    result.modified = True
    try:
        items = cap.parse_index(fetched.body)
    except cap.CapError as error:
        raise FetchError(f"the index at {feed_url} is unusable: {error}") from None
    for item in items:
        if await models.WarningMessage.exists(identifier=item.guid):
            continue
        link = urljoin(feed_url, item.link)
        if not _same_origin(link, feed_url):
            result.failures.append(f"{item.guid}: {link} is not on the feed's host")
            continue
        try:
            document = await fetcher.get(link)
        except FetchError as error:
            result.failures.append(str(error))
            continue
        assert document.body is not None, "only conditional GETs answer 304"
        result.results.append(
            await ingest(clock, doorbell, gazetteer, document.body, item.guid)
        )
    for failure in result.failures:
        logger.warning("early warnings: %s", failure)
    return result


def _same_origin(link: str, feed: str) -> bool:
    a, b = urlsplit(link), urlsplit(feed)
    return (a.scheme, a.netloc) == (b.scheme, b.netloc)


async def hold_lease(clock: Clock, holder: str, seconds: float) -> bool:
    """Take or renew the poller lease; False while another process holds it."""
    now = clock.now()
    until = now + timedelta(seconds=seconds)
    taken = await models.WarningPollerLease.filter(id=LEASE_ID, holder=holder).update(
        expires_at=until
    ) or await models.WarningPollerLease.filter(id=LEASE_ID, expires_at__lt=now).update(
        holder=holder, expires_at=until
    )
    if taken:
        return True
    if await models.WarningPollerLease.exists(id=LEASE_ID):
        return False
    try:
        await models.WarningPollerLease.create(
            id=LEASE_ID, holder=holder, expires_at=until
        )
    except IntegrityError:
        return False
    return True


class Poller:
    """Polls every interval while holding the lease; backs off after failures."""

    def __init__(
        self,
        clock: Clock,
        doorbell: Doorbell,
        gazetteer: Gazetteer,
        fetcher: Fetcher,
        feed_url: str,
        interval: float,
    ) -> None:
        self.clock = clock
        self.doorbell = doorbell
        self.gazetteer = gazetteer
        self.fetcher = fetcher
        self.feed_url = feed_url
        self.interval = interval
        self.holder = secrets.token_hex(8)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name="kimgraph-warnings")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.fetcher.client.aclose()

    async def run(self) -> None:
        failures = 0
        while True:
            try:
                # Three intervals: a holder that stops is replaced soon after.
                if await hold_lease(self.clock, self.holder, 3 * self.interval + 30):
                    await poll_once(
                        self.clock,
                        self.doorbell,
                        self.gazetteer,
                        self.fetcher,
                        self.feed_url,
                    )
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception:  # a failed round is retried, later each time
                failures += 1
                logger.exception("early-warning poll failed (%d in a row)", failures)
            delay = self.interval
            if failures:
                delay += backoff(failures, base=self.interval, cap=MAX_BACKOFF_S)
            await asyncio.sleep(delay)
