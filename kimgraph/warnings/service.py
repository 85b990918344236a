"""The poller as `kimgraph serve` runs it: on when KIMGRAPH_WARNINGS_FEED_URL is set."""

from __future__ import annotations

from kimgraph.clock import Clock
from kimgraph.events.bus import Doorbell
from kimgraph.settings import Settings
from kimgraph.warnings.areas import load_gazetteer
from kimgraph.warnings.fetch import Fetcher, new_client
from kimgraph.warnings.poller import Poller


async def start_poller(
    settings: Settings, clock: Clock, doorbell: Doorbell
) -> Poller | None:
    """A started poller, or None when no feed is configured (the default)."""
    if settings.warnings_feed_url is None:
        return None
    gazetteer = await load_gazetteer(
        settings.warnings_kabupaten, settings.warnings_aliases
    )
    poller = Poller(
        clock,
        doorbell,
        gazetteer,
        Fetcher(new_client()),
        settings.warnings_feed_url,
        settings.warnings_poll_seconds,
    )
    poller.start()
    return poller
