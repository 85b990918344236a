"""The in-process bus: the default when one process serves everything."""

from __future__ import annotations

from collections.abc import AsyncIterator

from kimgraph.events.bus import Listeners


class MemoryBus:
    """Doorbells within one process; the fan-out also polls the log, so none is lost."""

    def __init__(self) -> None:
        self._listeners = Listeners()

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        self._listeners.end()

    async def publish(self, position: int) -> None:
        self._listeners.ring(position)

    def listen(self) -> AsyncIterator[int]:
        return self._listeners.listen()

    async def ping(self) -> bool:
        return True
