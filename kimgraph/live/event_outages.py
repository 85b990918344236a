"""An event whose fields could not be read is never sent: its subscriber resumes.

A subscription's event is executed when it is sent: the hub loads the entity
for the whole batch, and the event's other fields are read then, through the
event's own loaders (docs/live-delivery.md, "Fresh data in every event"). When
the database goes away mid-read (a terminated connection, a failover), that
execution ends with an INTERNAL error and `data: null`. Sent, it would carry no
cursor: a client cannot tell which event it lost, and the next event's cursor
would carry it past the one it never saw (issue 16).

So such a result is not sent. A socket is closed with 1013 (try again later),
as the stalled reader and the database outage at connection_init are: the
client resumes from its last cursor and the event is replayed from the log
once the database answers. A shared run's members are all closed that way
(kimgraph.live.group); a socket's own operation is (kimgraph.live.protocol).

Only outages do this (kimgraph.outage.is_outage: a driver, the ORM, the
network). Any other error is a bug that would fail again on every replay; it
is sent as before, so that a client is not sent round in a loop.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, AsyncIterator, Coroutine
from typing import Any, Protocol

from kimgraph.outage import CLOSE_TRY_AGAIN, is_outage

logger = logging.getLogger("kimgraph.live.event_outages")

REASON = "an event could not be read; resume from the last cursor"


class Closable(Protocol):
    """A socket the server can close: Starlette's WebSocket, Strawberry's adapter."""

    def close(self, code: int, reason: str) -> Coroutine[Any, Any, None]: ...


def failed_to_load(result: object) -> bool:
    """True if an execution result failed because the database did not answer.

    The error masking (schema.errors.ApiErrors) keeps the original exception
    on the INTERNAL error it sends, which is what is looked at here.
    """
    for error in getattr(result, "errors", None) or ():
        original = getattr(error, "original_error", None)
        if original is not None and is_outage(original):
            return True
    return False


async def close_try_again(socket: Closable) -> None:
    """Close a socket with 1013: its subscriber resumes from its last cursor."""
    logger.warning(
        "an event could not be read (the database did not answer): closing its "
        "subscriber with %d to resume",
        CLOSE_TRY_AGAIN,
    )
    await socket.close(CLOSE_TRY_AGAIN, REASON)


async def until_failed(
    results: AsyncIterator[Any], failed: list[bool]
) -> AsyncGenerator[Any, None]:
    """results until one failed_to_load (not yielded; failed is set to [True])."""
    async for result in results:
        if failed_to_load(result):
            failed.append(True)
            return
        yield result
