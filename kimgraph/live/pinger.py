"""Server pings for every acknowledged socket, from one task per process."""

from __future__ import annotations

import asyncio
import contextlib
import itertools

from kimgraph.live.direct_write import text_frame
from kimgraph.live.outbox import Outbox

PING_FRAME = '{"type":"ping"}'
PING_WIRE = text_frame(PING_FRAME)
# The legacy graphql-ws protocol's keep-alive.
KA_FRAME = '{"type":"ka"}'
KA_WIRE = text_frame(KA_FRAME)
# One tuple each, shared by every socket (ten thousand idle boards).
PING = (PING_FRAME, PING_WIRE)
KA = (KA_FRAME, KA_WIRE)
# Ticks per ping interval; each socket is pinged on one of them.
PING_SLOTS = 30


class Pinger:
    """One task for the whole process that pings every acknowledged socket.

    A task per socket would cost ~2 KB each on ten thousand idle boards. The
    sockets are spread over PING_SLOTS slots, pinged one slot per tick, so that
    each is pinged once per interval without a burst of ten thousand sends
    (and as many pongs) that an event's fan-out would have to wait behind.
    """

    def __init__(self, interval: float) -> None:
        self.interval = interval
        # Each handler takes its outbox out again when its socket ends; each
        # outbox with its frame (graphql-transport-ws ping, or legacy ka).
        self._slots: list[dict[Outbox, tuple[str, bytes]]] = [
            {} for _ in range(PING_SLOTS)
        ]
        self._added = 0
        self._task: asyncio.Task[None] | None = None

    def __len__(self) -> int:
        return sum(len(slot) for slot in self._slots)

    def add(self, outbox: Outbox, frame: tuple[str, bytes] = PING) -> None:
        """Send this socket `frame` every interval: PING, or KA on legacy graphql-ws."""
        self._slots[self._added % PING_SLOTS][outbox] = frame
        self._added += 1
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="kimgraph-pings")

    def discard(self, outbox: Outbox) -> None:
        for slot in self._slots:
            slot.pop(outbox, None)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        step = self.interval / PING_SLOTS
        due = loop.time()
        for tick in itertools.count():
            # On a fixed schedule, so that the period never exceeds the interval.
            due += step
            await asyncio.sleep(max(0.0, due - loop.time()))
            for outbox, (frame, wire) in list(self._slots[tick % PING_SLOTS].items()):
                outbox.put(frame, wire)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
