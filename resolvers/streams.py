"""The event-stream part every subscription shares: cursor, replay, live, 1013."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from starlette.websockets import WebSocket

from kimgraph.context import Info
from kimgraph.events import log
from kimgraph.live.hub import Delivery, EventFilter, SlowConsumer

logger = logging.getLogger("kimgraph.subscriptions")

CLOSE_SLOW_CONSUMER = 1013


async def follow(
    info: Info, stream: str, after: str | None, accepts: EventFilter
) -> AsyncIterator[Delivery]:
    """Events of a stream after the cursor `after`, then live ones.

    A malformed cursor is INVALID_CURSOR, one older than retention
    CURSOR_EXPIRED; a subscriber that falls too far behind is closed with 1013
    and resumes with its last cursor.
    """
    after_id = log.decode_cursor(after) if after is not None else None
    if after_id is not None:
        await log.check_cursor(after_id)
    deliveries = info.context.hub.follow(
        stream, after_id, accepts, info.context.stream_mode
    )
    try:
        async for delivery in deliveries:
            yield delivery
    except SlowConsumer:
        logger.info("closing a slow subscriber with 1013")
        request = info.context.request
        if isinstance(request, WebSocket):
            await request.close(code=CLOSE_SLOW_CONSUMER, reason="slow consumer")
