"""The event-stream part every subscription shares: cursor, replay, live, 1013."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

from starlette.websockets import WebSocket

from kimgraph.context import Info
from kimgraph.cursors import decode_event_cursor
from kimgraph.events import log
from kimgraph.live.hub import Delivery, EventFilter, SlowConsumer
from kimgraph.live.runs import LiveOnly, ReplayOnly
from kimgraph.live.slow_consumers import close_slow_consumer

# A catch-up reads the log in pages this long: one shared catch-up serves every
# member resuming from its cursor (kimgraph.live.group), so its page is held
# once, not once per socket (docs/performance.md, "Resume").
REPLAY_PAGE = 500


async def follow(
    info: Info, stream: str, after: str | None, accepts: EventFilter
) -> AsyncIterator[Delivery]:
    """Events of a stream after the cursor `after`, then live ones.

    A malformed cursor is INVALID_CURSOR, one older than retention
    CURSOR_EXPIRED; a subscriber that falls too far behind is closed with 1013
    and resumes with its last cursor. A run the live layer started itself
    streams as its Context's stream_run says, and reports where it is.
    """
    after_id = decode_event_cursor(after) if after is not None else None
    if after_id is not None:
        await log.check_cursor(after_id)
    run = info.context.stream_run
    hub = info.context.hub
    if isinstance(run, ReplayOnly):
        # Read through the end of the log: every matching event up to there
        # is sent, whether or not the last one read matched.
        read = [after_id or 0]
        on_event = run.on_event
        async for delivery in hub.replay(
            stream, read[0], accepts, read.append, REPLAY_PAGE
        ):
            if on_event is not None:
                on_event(delivery.event.id)
            yield delivery
        run.on_replayed(read[-1])
        return
    on_position: Callable[[int], None] | None = None
    if isinstance(run, LiveOnly):
        # One run serves sockets with any cursor: it only follows new events.
        on_position = run.on_position
        deliveries = hub.follow(stream, None, accepts, on_position)
    else:
        deliveries = hub.follow(stream, after_id, accepts)
    try:
        async for delivery in deliveries:
            if on_position is not None:
                on_position(delivery.event.id)
            yield delivery
    except SlowConsumer:
        request = info.context.request
        if isinstance(request, WebSocket):
            await close_slow_consumer(request)
