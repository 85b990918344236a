"""The event bus: only a doorbell saying "the log has grown to position N"."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol


class EventBus(Protocol):
    """Carries doorbells between the processes that share one database."""

    async def start(self) -> None:
        """Connect."""
        ...

    async def close(self) -> None:
        """Disconnect; listeners end."""
        ...

    async def publish(self, position: int) -> None:
        """Ring: events up to this id are committed. Call after the commit."""
        ...

    def listen(self) -> AsyncIterator[int]:
        """Positions rung by any process, this one included.

        0 names no position: doorbells may have been lost (a reconnect), so read
        the log. A bus that can lose doorbells rings it after every reconnect.
        """
        ...

    async def ping(self) -> bool:
        """True if the bus is reachable (for /readyz)."""
        ...
