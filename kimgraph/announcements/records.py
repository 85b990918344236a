"""Announcement status and the events an announcement's changes write to the log."""

from __future__ import annotations

import enum
from datetime import datetime

from kimgraph import models
from kimgraph.events import log

STREAM = "announcement"


class Status(enum.StrEnum):
    """Where an announcement is in its life, derived from time and actions."""

    SCHEDULED = "SCHEDULED"
    ACTIVE = "ACTIVE"
    EXPIRED = "EXPIRED"
    WITHDRAWN = "WITHDRAWN"


class EventKind(enum.StrEnum):
    """What happened to an announcement."""

    PUBLISHED = "PUBLISHED"
    UPDATED = "UPDATED"
    WITHDRAWN = "WITHDRAWN"
    EXPIRED = "EXPIRED"


def status_of(row: models.Announcement, now: datetime) -> Status:
    """The status at `now`."""
    if row.withdrawn_at is not None:
        return Status.WITHDRAWN
    if now < row.valid_from:
        return Status.SCHEDULED
    if row.valid_until is not None and now >= row.valid_until:
        return Status.EXPIRED
    return Status.ACTIVE


async def record_event(
    tx: log.Transaction, row: models.Announcement, kind: EventKind, at: datetime
) -> int:
    """Append the event of a change to the log, in the change's transaction."""
    targets = (
        await models.AnnouncementTarget.filter(announcement_id=row.id)
        .using_db(tx.conn)
        .values_list("region_id", flat=True)
    )
    record = await log.append(
        tx,
        stream=STREAM,
        kind=kind,
        entity_id=row.id,
        regions=[str(code) for code in targets],
        occurred_at=at,
    )
    return record.id
