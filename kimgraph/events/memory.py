"""The in-process bus: the default when one process serves everything."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator


class MemoryBus:
    """Doorbells within one process; the fan-out also polls the log, so none is lost."""

    def __init__(self) -> None:
        self._listeners: set[asyncio.Queue[int | None]] = set()

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        for queue in self._listeners:
            queue.put_nowait(None)

    async def publish(self, position: int) -> None:
        for queue in self._listeners:
            # A doorbell only needs the newest position: drop older ones.
            while not queue.empty():
                queue.get_nowait()
            queue.put_nowait(position)

    async def listen(self) -> AsyncIterator[int]:
        queue: asyncio.Queue[int | None] = asyncio.Queue()
        self._listeners.add(queue)
        try:
            while (position := await queue.get()) is not None:
                yield position
        finally:
            self._listeners.discard(queue)

    async def ping(self) -> bool:
        return True
