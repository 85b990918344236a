"""Due-time rows and the loop that fires them, each exactly once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime, timedelta

from tortoise.backends.base.client import BaseDBAsyncClient

from kimgraph import models
from kimgraph.clock import Clock
from kimgraph.events import log
from kimgraph.events.bus import Doorbell

logger = logging.getLogger("kimgraph.timers")

# Fires one due row (entity id, due time) inside the claiming transaction.
Handler = Callable[[log.Transaction, int, datetime], Awaitable[None]]
# Work done once an hour with the time (e.g. kimgraph.pii.erasure); idempotent.
Hourly = Callable[[datetime], Awaitable[object]]
BATCH = 100


async def schedule(
    conn: BaseDBAsyncClient, kind: str, entity_id: int, due_at: datetime
) -> None:
    """Make sure one unfired row of this kind for this entity is due at due_at."""
    await (
        models.Timer.filter(kind=kind, entity_id=entity_id, fired_at=None)
        .using_db(conn)
        .delete()
    )
    await models.Timer.create(
        kind=kind, entity_id=entity_id, due_at=due_at, using_db=conn
    )


async def cancel(conn: BaseDBAsyncClient, kind: str, entity_id: int) -> None:
    """Forget the unfired row of this kind for this entity, if any."""
    await (
        models.Timer.filter(kind=kind, entity_id=entity_id, fired_at=None)
        .using_db(conn)
        .delete()
    )


async def fire_due(
    clock: Clock, doorbell: Doorbell, handlers: Mapping[str, Handler]
) -> int | None:
    """Fire every row due by now, each in its own transaction; the newest event id.

    Only kinds this process has a handler for are read: a row of a kind it does
    not know (written by a newer version during a rolling upgrade) is left to
    the processes that know it, and never blocks the rows behind it.
    """
    now = clock.now()
    newest: int | None = None
    due = (
        await models.Timer.filter(
            fired_at=None, due_at__lte=now, kind__in=list(handlers)
        )
        .order_by("due_at", "id")
        .limit(BATCH)
    )
    for row in due:
        async with log.transaction(doorbell) as tx:
            # The conditional update is the claim: with several processes, only
            # one sees a row count of 1.
            claimed = (
                await models.Timer.filter(id=row.id, fired_at=None)
                .using_db(tx.conn)
                .update(fired_at=now)
            )
            if claimed:
                await handlers[row.kind](tx, row.entity_id, row.due_at)
        newest = tx.newest or newest
    return newest


async def prune_fired(before: datetime) -> int:
    """Remove rows fired before `before`; they only record that a step ran once.

    A fired row is what keeps a second process from firing it again, which
    matters only while the two race, so the event log's retention is ample.
    """
    return await models.Timer.filter(fired_at__lt=before).delete()


class TimerLoop:
    """Fires due rows every interval and applies event retention once an hour."""

    def __init__(
        self,
        clock: Clock,
        doorbell: Doorbell,
        handlers: Mapping[str, Handler],
        *,
        interval: float = 1.0,
        retention: timedelta = timedelta(days=30),
        hourly: Sequence[Hourly] = (),
    ) -> None:
        self.clock = clock
        self.hourly = hourly
        self.doorbell = doorbell
        self.handlers = handlers
        self.interval = interval
        self.retention = retention
        self._task: asyncio.Task[None] | None = None
        self._last_prune: datetime | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="kimgraph-timers")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def tick(self) -> None:
        """One round: fire what is due; prune and the hourly jobs if an hour passed."""
        await fire_due(self.clock, self.doorbell, self.handlers)
        now = self.clock.now()
        if self._last_prune is None or now - self._last_prune >= timedelta(hours=1):
            self._last_prune = now
            removed = await log.prune(now - self.retention)
            if removed:
                logger.info("event retention removed %d events", removed)
            fired = await prune_fired(now - self.retention)
            if fired:
                logger.info("timer retention removed %d fired timers", fired)
            for job in self.hourly:
                await job(now)

    async def _run(self) -> None:
        while True:
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception:  # a failed round is retried next tick
                logger.exception("timer round failed")
            await asyncio.sleep(self.interval)
