"""Announcement status and the events an announcement's changes write to the log."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

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


class AnnouncementRecord(Protocol):
    """An announcement's columns: an ORM row, or an AnnouncementRow."""

    @property
    def id(self) -> int: ...
    @property
    def title(self) -> str: ...
    @property
    def body(self) -> str: ...
    @property
    def category(self) -> models.AnnouncementCategory: ...
    @property
    def priority(self) -> models.AnnouncementPriority: ...
    @property
    def kim_id(self) -> int | None: ...
    @property
    def publisher_id(self) -> int | None: ...
    @property
    def published_by(self) -> str: ...
    @property
    def valid_from(self) -> datetime: ...
    @property
    def valid_until(self) -> datetime | None: ...
    @property
    def withdrawn_at(self) -> datetime | None: ...
    @property
    def withdraw_reason(self) -> str | None: ...
    @property
    def revision(self) -> int: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def updated_at(self) -> datetime: ...


@dataclass(frozen=True, slots=True)
class AnnouncementRow:
    """An announcement read for display in SQL, without the ORM's cost per row.

    Lists read many (kimgraph.announcements.queries, "Rows without the ORM");
    changes go through models.Announcement.
    """

    id: int
    title: str
    body: str
    category: models.AnnouncementCategory
    priority: models.AnnouncementPriority
    kim_id: int | None
    publisher_id: int | None
    published_by: str
    valid_from: datetime
    valid_until: datetime | None
    withdrawn_at: datetime | None
    withdraw_reason: str | None
    revision: int
    created_at: datetime
    updated_at: datetime


def status_of(row: AnnouncementRecord, now: datetime) -> Status:
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
