"""Erasing reporters' names and contacts once an aspiration has been closed long enough.

"Closed" is a final state (kimgraph.aspirations.workflow.FINAL_STATES); the
time it was closed is its latest transition, not `updated_at`, which hiding or
a response also moves. Only the two personal-data columns are set to NULL: the
aspiration, its transitions, responses and events stay (docs/privacy.md).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from tortoise.expressions import Q
from tortoise.functions import Max

from kimgraph import models
from kimgraph.aspirations.workflow import FINAL_STATES
from kimgraph.pii import store

logger = logging.getLogger("kimgraph.pii")
BATCH = 500


async def erase_due(now: datetime, retention: timedelta, *, batch: int = BATCH) -> int:
    """Erase the personal data of every aspiration closed before now - retention."""
    cutoff = now - retention
    erased = 0
    while True:
        due = (
            await models.Aspiration.filter(status__in=FINAL_STATES)
            .filter(Q(reporter_name__isnull=False) | Q(reporter_contact__isnull=False))
            .annotate(closed_at=Max("transitions__at"))
            .filter(closed_at__lte=cutoff)
            .order_by("id")
            .limit(batch)
            .values_list("id", flat=True)
        )
        if not due:
            break
        # The status again: an aspiration reopened since the read keeps its data.
        erased += await models.Aspiration.filter(
            id__in=due, status__in=FINAL_STATES
        ).update(reporter_name=None, reporter_contact=None)
        if len(due) < batch:
            break
    if erased:
        await store.scrub()
    return erased


def hourly(retention: timedelta) -> Callable[[datetime], Awaitable[int]]:
    """The erasure as a kimgraph.timers.TimerLoop hourly job (every process runs it)."""

    async def erase(now: datetime) -> int:
        erased = await erase_due(now, retention)
        if erased:
            logger.info("erased the personal data of %d closed aspirations", erased)
        return erased

    return erase
