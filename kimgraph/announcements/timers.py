"""The announcement timers: scheduled publication and expiry."""

from __future__ import annotations

from datetime import datetime

from kimgraph import models
from kimgraph.announcements.records import EventKind, record_event
from kimgraph.events import log
from kimgraph.timers import Handler

TIMER_PUBLISH = "announcement.publish"
TIMER_EXPIRE = "announcement.expire"


async def fire_publish(tx: log.Transaction, entity_id: int, due: datetime) -> None:
    """Timer: a scheduled announcement's validFrom has come."""
    row = await models.Announcement.get_or_none(id=entity_id, using_db=tx.conn)
    if row is not None and row.withdrawn_at is None:
        await record_event(tx, row, EventKind.PUBLISHED, due)


async def fire_expire(tx: log.Transaction, entity_id: int, due: datetime) -> None:
    """Timer: an announcement's validUntil has passed."""
    row = await models.Announcement.get_or_none(id=entity_id, using_db=tx.conn)
    if row is not None and row.withdrawn_at is None and row.valid_until == due:
        await record_event(tx, row, EventKind.EXPIRED, due)


TIMER_HANDLERS: dict[str, Handler] = {
    TIMER_PUBLISH: fire_publish,
    TIMER_EXPIRE: fire_expire,
}
