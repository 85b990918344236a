"""Reads of announcements: what a region shows, in board order, and batch lookups."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from tortoise import timezone
from tortoise.backends.base.client import BaseDBAsyncClient

from kimgraph import cursors, models
from kimgraph.announcements.records import AnnouncementRecord, AnnouncementRow
from kimgraph.announcements.visibility import PUBLIC, Reader
from kimgraph.clock import to_utc
from kimgraph.events import log
from kimgraph.events.log import EventRecord
from kimgraph.models import AnnouncementCategory, AnnouncementPriority
from kimgraph.regions.codes import ancestors_of
from kimgraph.regions.queries import no_such_region
from kimgraph.statements import Bound, default_connection

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

    def where(self, bind: Bound, now: datetime) -> str:
        """SQL: matching announcements `a` the reader may read (unordered)."""
        codes = ", ".join(bind.value(code, "text") for code in shown_codes(self.region))
        here = f"t.region_id IN ({codes})"
        if self.include_descendants:
            # Codes are digits and dots (regions.validate): nothing to escape.
            here += f" OR t.region_id LIKE {bind.value(self.region + '.%', 'text')}"
        conditions = [
            "a.id IN (SELECT t.announcement_id FROM announcement_target AS t "
            f"WHERE {here})"
        ]
        if self.category is not None:
            conditions.append(f"a.category = {bind.value(self.category.value, 'text')}")
        if self.min_priority is not None:
            priority = bind.value(int(self.min_priority), "integer")
            conditions.append(f"a.priority >= {priority}")
        at = bind.value(to_utc(now), "timestamptz")
        if self.active_only:
            conditions.append(
                f"a.withdrawn_at IS NULL AND a.valid_from <= {at} "
                f"AND (a.valid_until IS NULL OR a.valid_until > {at})"
            )
        else:
            conditions.append(self.reader.readable(bind, at))
        return " AND ".join(conditions)


def page_key(row: AnnouncementRecord) -> PageKey:
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
    rows: list[AnnouncementRow]
    has_next: bool
    total: int


# Rows without the ORM: a board reads 20 to 100 announcements a request, and
# Tortoise's building of each statement and of each row was most of that read's
# CPU (docs/performance.md, "The HTTP read path"). The columns of AnnouncementRow,
# in its order, and of `a` (the announcement table) in every statement here.
_COLUMNS = (
    "id, title, body, category, priority, kim_id, publisher_id, published_by, "
    "valid_from, valid_until, withdrawn_at, withdraw_reason, revision, "
    "created_at, updated_at"
)
_A_COLUMNS = ", ".join(f"a.{name}" for name in _COLUMNS.split(", "))
_PAGE_COLUMNS = ", ".join(f"page.{name}" for name in _COLUMNS.split(", "))
_BOARD_ORDER = "priority DESC, {t}.valid_from DESC, {t}.id DESC"
_ZONE = timezone.get_default_timezone()


def _instant(value: datetime | str | None) -> datetime | None:
    """A stored instant as the ORM reads it (SQLite keeps ISO text)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(_ZONE)


def _row(values: Sequence[Any], at: int = 0) -> AnnouncementRow:
    """The AnnouncementRow in `values` from index `at`, in _COLUMNS order."""
    (id_, title, body, category, priority, kim_id, publisher_id, published_by,
     valid_from, valid_until, withdrawn_at, withdraw_reason, revision,
     created_at, updated_at) = values[at : at + 15]  # fmt: skip
    return AnnouncementRow(
        id=int(id_),
        title=title,
        body=body,
        category=AnnouncementCategory(category),
        priority=AnnouncementPriority(priority),
        kim_id=kim_id,
        publisher_id=publisher_id,
        published_by=published_by,
        valid_from=_instant(valid_from) or _missing("valid_from"),
        valid_until=_instant(valid_until),
        withdrawn_at=_instant(withdrawn_at),
        withdraw_reason=withdraw_reason,
        revision=int(revision),
        created_at=_instant(created_at) or _missing("created_at"),
        updated_at=_instant(updated_at) or _missing("updated_at"),
    )


def _missing(column: str) -> datetime:
    raise ValueError(f"announcement.{column} is NOT NULL but was read as NULL")


async def board_page(
    where: AnnouncementFilter, now: datetime, after: PageKey | None, limit: int
) -> BoardPage:
    """A page in board order (EMERGENCY first, then newest); more?; the total.

    One statement reads whether the region exists (NotFoundError if not), the
    event log's position, the total and the page: one snapshot, so a
    subscriber resuming from the position misses no change the page does not
    show.
    """
    conn = default_connection()
    bind = Bound.of(conn)
    region = bind.value(where.region, "text")
    matching = where.where(bind, now)
    keyset = ""
    if after is not None:
        priority = bind.value(after[0], "integer")
        valid_from = bind.value(to_utc(after[1]), "timestamptz")
        row_id = bind.value(after[2], "integer")
        keyset = (
            f" AND (a.priority < {priority} OR (a.priority = {priority} "
            f"AND a.valid_from < {valid_from}) OR (a.priority = {priority} "
            f"AND a.valid_from = {valid_from} AND a.id < {row_id}))"
        )
    sql = (
        f"SELECT head.known, head.log_newest, head.log_pruned, head.total, "
        f"{_PAGE_COLUMNS} FROM (SELECT "
        f"(SELECT COUNT(*) FROM region WHERE code = {region}) AS known, "
        f"{log.POSITION_COLUMNS}, "
        f"(SELECT COUNT(*) FROM announcement AS a WHERE {matching}) AS total"
        f") AS head LEFT JOIN (SELECT {_A_COLUMNS} FROM announcement AS a "
        f"WHERE {matching}{keyset} ORDER BY a.{_BOARD_ORDER.format(t='a')} "
        f"LIMIT {bind.value(limit + 1, 'integer')}) AS page ON 1 = 1 "
        f"ORDER BY page.{_BOARD_ORDER.format(t='page')}"
    )
    found = await _rows(conn, sql, bind.values)
    head = found[0]
    if not head[0]:
        raise no_such_region(where.region)
    rows = [_row(values, 4) for values in found if values[4] is not None]
    return BoardPage(
        log.position_of(head[1], head[2]), rows[:limit], len(rows) > limit, head[3]
    )


async def records_by_ids(ids: Sequence[int]) -> dict[int, AnnouncementRow]:
    """The announcements among ids that exist, keyed by id, read without the ORM."""
    if not ids:
        return {}
    conn = default_connection()
    bind = Bound.of(conn)
    listed = ", ".join(bind.value(int(i), "integer") for i in ids)
    sql = f"SELECT {_A_COLUMNS} FROM announcement AS a WHERE a.id IN ({listed})"
    found = await _rows(conn, sql, bind.values)
    return {row.id: row for row in map(_row, found)}


async def _rows(
    conn: BaseDBAsyncClient, sql: str, values: list[object]
) -> Sequence[Sequence[Any]]:
    """A statement's rows, read by index (sqlite3.Row, asyncpg's Record)."""
    _, rows = await conn.execute_query(sql, values)
    return cast(Sequence[Sequence[Any]], rows)


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
