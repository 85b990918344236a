"""The announcement timers: scheduled publication and expiry."""

from __future__ import annotations

from datetime import datetime

from tortoise.backends.base.client import BaseDBAsyncClient

from kimgraph import models
from kimgraph.announcements.records import EventKind, record_event

TIMER_PUBLISH = "announcement.publish"
TIMER_EXPIRE = "announcement.expire"


async def fire_publish(
    conn: BaseDBAsyncClient, entity_id: int, due: datetime
) -> int | None:
    """Timer: a scheduled announcement's validFrom has come."""
    row = await models.Announcement.get_or_none(id=entity_id, using_db=conn)
    if row is None or row.withdrawn_at is not None:
        return None
    return await record_event(conn, row, EventKind.PUBLISHED, due)


async def fire_expire(
    conn: BaseDBAsyncClient, entity_id: int, due: datetime
) -> int | None:
    """Timer: an announcement's validUntil has passed."""
    row = await models.Announcement.get_or_none(id=entity_id, using_db=conn)
    if row is None or row.withdrawn_at is not None or row.valid_until != due:
        return None
    return await record_event(conn, row, EventKind.EXPIRED, due)


TIMER_HANDLERS = {TIMER_PUBLISH: fire_publish, TIMER_EXPIRE: fire_expire}
