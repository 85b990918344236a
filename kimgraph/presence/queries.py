"""boards(region): each desa's board, online or since when it has been silent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.expressions import Q

from kimgraph import models

LONG_OFFLINE = timedelta(days=1)
"""A board silent for longer than this is flagged: someone should go and look."""


@dataclass(frozen=True, slots=True)
class BoardState:
    """A desa's board as a query at `now` sees it."""

    code: str
    online: bool
    # The start of its latest unbroken run: now (if online) or before it went.
    since: datetime
    last_seen: datetime
    long_offline: bool

    @classmethod
    def of(
        cls, row: models.BoardPresence, now: datetime, stale_after: timedelta
    ) -> BoardState:
        """The state of a row at now, online while recorded within stale_after."""
        online = now - row.last_seen <= stale_after
        return cls(
            code=row.code,
            online=online,
            since=row.since,
            last_seen=row.last_seen,
            long_offline=not online and now - row.last_seen > LONG_OFFLINE,
        )


async def board_page(
    region: str,
    now: datetime,
    stale_after: timedelta,
    after: str | None,
    limit: int,
) -> tuple[list[BoardState], bool, int]:
    """Desa in region (or region itself) ever recorded, in code order, after `after`.

    The page, whether more follow, and the total. The caller has checked who
    asks (kimgraph.reports.access).
    """
    query = models.BoardPresence.filter(
        Q(code=region) | Q(code__startswith=region + ".")
    )
    total = await query.count()
    if after is not None:
        query = query.filter(code__gt=after)
    rows = await query.order_by("code").limit(limit + 1)
    states = [BoardState.of(row, now, stale_after) for row in rows[:limit]]
    return states, len(rows) > limit, total
