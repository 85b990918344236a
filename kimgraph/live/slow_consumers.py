"""Closing a subscriber that fell behind: one code, one reason, one count.

Both bounds end here: a hub subscription's queue (an operation that runs on
its own) and a connection's outbox (members of a shared run). The client
resumes with its last cursor, so memory stays bounded and nothing is lost.
"""

from __future__ import annotations

import logging
from collections.abc import Coroutine
from typing import Any, ClassVar, Protocol

logger = logging.getLogger("kimgraph.live.slow_consumers")

# "Try again later" (RFC 6455): the client reconnects and resumes.
CLOSE_SLOW_CONSUMER = 1013
REASON = "slow consumer"


class Closable(Protocol):
    """A socket the server can close: Starlette's WebSocket."""

    def close(self, code: int, reason: str) -> Coroutine[Any, Any, None]: ...


class SlowConsumers:
    """What close_slow_consumer has done in this process (for /metrics)."""

    closed: ClassVar[int] = 0


async def close_slow_consumer(socket: Closable) -> None:
    """Close a socket whose subscriber fell behind with 1013 "slow consumer"."""
    SlowConsumers.closed += 1
    logger.info("closing a slow subscriber with %d", CLOSE_SLOW_CONSUMER)
    await socket.close(CLOSE_SLOW_CONSUMER, REASON)
