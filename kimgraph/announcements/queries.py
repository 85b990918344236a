"""Reads of announcements: what a region shows, in board order, and batch lookups."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from tortoise.expressions import Q, Subquery
from tortoise.queryset import QuerySet

from kimgraph import cursors, models
from kimgraph.announcements.visibility import PUBLIC, Reader
from kimgraph.clock import to_utc
from kimgraph.events import log
from kimgraph.events.log import EventRecord
from kimgraph.models import AnnouncementCategory, AnnouncementPriority
from kimgraph.regions.codes import ancestors_of

# (priority, valid_from, id): the keyset of "EMERGENCY first, then newest".
PageKey = tuple[int, datetime, int]


def shown_codes(region: str) -> list[str]:
    """The codes whose announcements a region shows: its own and those above it."""
    return [*ancestors_of(region), region]


@dataclass(frozen=True, slots=True)
class AnnouncementFilter:
    """The arguments of `announcements(…)`, already checked."""

    region: str
    include_descendants: bool = False
    category: AnnouncementCategory | None = None
    min_priority: AnnouncementPriority | None = None
    active_only: bool = True
    # Who reads: scheduled announcements only for whom visibility.py allows.
    reader: Reader = PUBLIC

    def queryset(self, now: datetime) -> QuerySet[models.Announcement]:
        """Matching announcements the reader may read (unordered)."""
        here = Q(region_id__in=shown_codes(self.region))
        if self.include_descendants:
            here |= Q(region_id__startswith=self.region + ".")
        targeted = models.AnnouncementTarget.filter(here).values("announcement_id")
        query = models.Announcement.filter(id__in=Subquery(targeted))
        if self.category is not None:
            query = query.filter(category=self.category)
        if self.min_priority is not None:
            query = query.filter(priority__gte=self.min_priority)
        if self.active_only:
            query = query.filter(
                Q(valid_until=None) | Q(valid_until__gt=now),
                withdrawn_at=None,
                valid_from__lte=now,
            )
        else:
            query = query.filter(self.reader.readable(now))
        return query


def page_key(row: models.Announcement) -> PageKey:
    """The position of a row in board order."""
    return (int(row.priority), row.valid_from, row.id)


def read_page_key(text: str) -> PageKey:
    """A position from its text "priority|validFrom|id"; ValueError if not one."""
    priority, valid_from, key = text.split("|")
    return (
        AnnouncementPriority(int(priority)).value,
        to_utc(datetime.fromisoformat(valid_from)),
        cursors.row_id(key),
    )


@dataclass(frozen=True, slots=True)
class BoardPage:
    """A page in board order, with the event log's position read before it."""

    position: int
    rows: list[models.Announcement]
    has_next: bool
    total: int


async def board_page(
    where: AnnouncementFilter, now: datetime, after: PageKey | None, limit: int
) -> BoardPage:
    """A page in board order (EMERGENCY first, then newest); more?; the total.

    The position comes first: a subscriber resuming from it misses no change
    the page does not show.
    """
    position = await log.position()
    query = where.queryset(now)
    total = await query.count()
    if after is not None:
        priority, valid_from, row_id = after
        query = query.filter(
            Q(priority__lt=priority)
            | Q(priority=priority, valid_from__lt=valid_from)
            | Q(priority=priority, valid_from=valid_from, id__lt=row_id)
        )
    rows = await query.order_by("-priority", "-valid_from", "-id").limit(limit + 1)
    return BoardPage(position, rows[:limit], len(rows) > limit, total)


async def announcements_by_ids(ids: Sequence[int]) -> dict[int, models.Announcement]:
    """The announcements among ids that exist, keyed by id."""
    return {a.id: a for a in await models.Announcement.filter(id__in=list(ids))}


async def targets_by_ids(ids: Sequence[int]) -> dict[int, list[str]]:
    """Each announcement's target codes, in the order they were added."""
    grouped: dict[int, list[str]] = {i: [] for i in ids}
    rows = await models.AnnouncementTarget.filter(
        announcement_id__in=list(ids)
    ).order_by("id")
    for row in rows:
        grouped[row.announcement_id].append(row.region_id)
    return grouped


@dataclass(frozen=True, slots=True)
class Snapshot:
    """An announcement as an event shows it, loaded once for every subscriber."""

    announcement: models.Announcement
    targets: tuple[str, ...]


async def prepare_events(events: Sequence[EventRecord]) -> dict[int, object]:
    """Load the announcements of a batch of events in two queries."""
    ids = list({event.entity_id for event in events})
    rows = await announcements_by_ids(ids)
    targets = await targets_by_ids(ids)
    return {
        event.id: Snapshot(rows[event.entity_id], tuple(targets[event.entity_id]))
        for event in events
        if event.entity_id in rows
    }
