"""Each process writes its boards' presence once per interval, in one statement."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from tortoise import Tortoise

from kimgraph.clock import Clock
from kimgraph.presence.sockets import BoardSockets

logger = logging.getLogger("kimgraph.presence")

STALE_BEATS = 3
"""A desa not recorded for this many intervals has no board online."""
# One missed beat (a slow database, a long GC pause) must not flap a board
# offline; a process killed with -9 stops beating, and its boards go offline
# after this many intervals without anyone cleaning up.

BATCH = 2_000
"""Desa per statement: 3 values each, under what one statement may bind."""

_UPSERT = """
INSERT INTO board_presence (code, since, last_seen)
SELECT code, {now}, {now} FROM region WHERE code IN ({codes})
ON CONFLICT (code) DO UPDATE SET
  since = CASE WHEN board_presence.last_seen < {stale} THEN excluded.since
    ELSE board_presence.since END,
  last_seen = CASE WHEN board_presence.last_seen < excluded.last_seen
    THEN excluded.last_seen ELSE board_presence.last_seen END
"""


async def record(codes: Sequence[str], now: datetime, stale_before: datetime) -> None:
    """Mark these desa seen now; a desa unseen since stale_before starts anew.

    Codes that name no region are skipped by the statement itself. The
    newest time wins when two processes write the same desa.
    """
    conn = Tortoise.get_connection("default")
    # Numbered placeholders: $n on PostgreSQL, ?n on SQLite.
    mark = "$" if str(conn.capabilities.dialect) == "postgres" else "?"
    for start in range(0, len(codes), BATCH):
        batch = list(codes[start : start + BATCH])
        sql = _UPSERT.format(
            now=f"CAST({mark}1 AS timestamptz)" if mark == "$" else "?1",
            stale=f"{mark}2",
            codes=", ".join(f"{mark}{n + 3}" for n in range(len(batch))),
        )
        # In UTC, as Tortoise stores instants: SQLite compares them as text.
        values = [now.astimezone(UTC), stale_before.astimezone(UTC), *batch]
        await conn.execute_query(sql, values)


def stale_after(interval: float) -> timedelta:
    """How long a desa stays online after its last record, beating every interval."""
    return timedelta(seconds=interval * STALE_BEATS)


class Heartbeat:
    """Records this process's boards every interval until closed."""

    def __init__(self, clock: Clock, sockets: BoardSockets, interval: float) -> None:
        self.clock = clock
        self.sockets = sockets
        self.interval = interval
        self._task: asyncio.Task[None] | None = None

    @property
    def stale_after(self) -> timedelta:
        """How long since its last record a desa still has a board online."""
        return stale_after(self.interval)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="kimgraph-board-presence")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def beat(self) -> None:
        """One record of every desa with an open board socket."""
        codes = self.sockets.codes()
        if codes:
            now = self.clock.now()
            await record(codes, now, now - self.stale_after)

    async def _run(self) -> None:
        while True:
            try:
                await self.beat()
            except asyncio.CancelledError:
                raise
            except Exception:  # the next beat tries again
                logger.exception("recording board presence failed")
            await asyncio.sleep(self.interval)
