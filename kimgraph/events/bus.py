"""The event bus: only a doorbell saying "the log has grown to position N"."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Protocol


class Doorbell(Protocol):
    """Says that events up to position are committed: call only after the commit."""

    async def __call__(self, position: int, /) -> None: ...


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


class Listeners:
    """The listen() calls of one bus, each holding only the newest doorbell.

    A doorbell only says "the log has grown": a listener that has not taken
    one yet needs just the latest, so a newer one replaces a waiting one.
    """

    def __init__(self) -> None:
        self._queues: set[asyncio.Queue[int | None]] = set()

    def ring(self, position: int | None) -> None:
        """Ring every listener; None ends them."""
        for queue in self._queues:
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(position)

    def end(self) -> None:
        self.ring(None)

    async def listen(self, first: int | None = None) -> AsyncIterator[int]:
        """Doorbells until the bus ends; `first` is rung at once if given."""
        queue: asyncio.Queue[int | None] = asyncio.Queue(1)
        if first is not None:
            queue.put_nowait(first)
        self._queues.add(queue)
        try:
            while (position := await queue.get()) is not None:
                yield position
        finally:
            self._queues.discard(queue)
