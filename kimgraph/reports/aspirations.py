"""aspirationStats: counts, step durations and overdue items of a region's period.

Every count is a GROUP BY in the database; durations come back as counted
(start, end) date pairs (kimgraph.reports.durations). Three statements in all,
plus one for the names of the child regions. Definitions: docs/reports.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from tortoise import Tortoise

from kimgraph import models
from kimgraph.errors import InvalidArgumentError
from kimgraph.models import (
    AnnouncementCategory,
    AnnouncementPriority,
    AspirationCategory,
    AspirationStatus,
)
from kimgraph.reports.durations import Durations, durations

MAX_PERIOD_DAYS = 366
"""A recap covers at most a (leap) year: it bounds the date pairs summed up."""

# The history rows that end each measured step (docs/reports.md): a verifier's
# first decision on a submission (a withdrawal is the reporter's, not one), the
# first disposition and the unit's first response.
VERIFY = "verify"
DISPOSE = "dispose"
RESPOND = "respond"
_DECIDED = ("VERIFIED", "NEEDS_INFO", "DUPLICATE", "NOT_AUTHORIZED", "ARCHIVED")
_STEP_ENDS = {
    VERIFY: "t.from_status = 'SUBMITTED' AND t.to_status IN ("
    + ", ".join(f"'{status}'" for status in _DECIDED)
    + ")",
    DISPOSE: "t.to_status = 'DISPOSED'",
    RESPOND: "t.to_status = 'RESPONDED'",
}
_ENDING = (*_DECIDED, "DISPOSED", "RESPONDED")


@dataclass(frozen=True, slots=True)
class Period:
    """Calendar days in Asia/Pontianak, both ends included."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise InvalidArgumentError(
                f"the period ends ({self.end}) before it starts ({self.start})"
            )
        if (self.end - self.start).days + 1 > MAX_PERIOD_DAYS:
            raise InvalidArgumentError(
                f"a report covers at most {MAX_PERIOD_DAYS} days; "
                f"{self.start} to {self.end} is longer"
            )


@dataclass(frozen=True, slots=True)
class ChildCount:
    """Aspirations raised in one region directly below the report's region."""

    code: str
    name: str
    count: int


@dataclass(frozen=True, slots=True)
class AnnouncementStats:
    """Announcements that started in the period for the region or below it."""

    total: int
    by_category: dict[AnnouncementCategory, int]
    by_priority: dict[AnnouncementPriority, int]


@dataclass(frozen=True, slots=True)
class AspirationStats:
    """The recap of one region and period (docs/reports.md)."""

    region: str
    period: Period
    now: datetime
    total: int
    by_status: dict[AspirationStatus, int]
    by_category: dict[AspirationCategory, int]
    by_child: list[ChildCount]
    overdue: int
    steps: dict[str, Durations]
    announcements: AnnouncementStats


class _Sql:
    """One dialect's spelling of what the statements need, and their values."""

    def __init__(self) -> None:
        self.conn = Tortoise.get_connection("default")
        self.postgres = str(self.conn.capabilities.dialect) == "postgres"

    def local_date(self, column: str) -> str:
        """The calendar date of a stored instant in Asia/Pontianak (UTC+7)."""
        if self.postgres:
            return f"CAST(({column}) AT TIME ZONE 'Asia/Pontianak' AS date)"
        # SQLite reads the stored offset; WIB has been UTC+7 without DST since 1988.
        return f"date({column}, '+7 hours')"

    def before(self, column: str, placeholder: str) -> str:
        """column < the instant bound at placeholder."""
        if self.postgres:
            return f"{column} < {placeholder}"
        return f"julianday({column}) < julianday({placeholder})"

    def value(self, value: object) -> object:
        """A date or instant as the driver binds it."""
        if self.postgres or not isinstance(value, date):
            return value
        return value.isoformat()

    async def rows(self, sql: str, values: list[object]) -> list[dict[str, object]]:
        """Run a statement written with $n placeholders (?n on SQLite)."""
        if not self.postgres:
            sql = sql.replace("$", "?")
        return await self.conn.execute_query_dict(
            sql, [self.value(value) for value in values]
        )


# $1 the region, $2 its subtree's LIKE pattern, $3 and $4 the period's days.
_IN_SCOPE = "(a.region_id = $1 OR a.region_id LIKE $2)"


def _in_period(sql: _Sql, column: str) -> str:
    return f"{sql.local_date(column)} BETWEEN $3 AND $4"


async def aspiration_stats(
    region: str, period: Period, now: datetime
) -> AspirationStats:
    """The recap of aspirations submitted in region (or below) during period.

    The caller has checked who asks (kimgraph.reports.access). `now` decides
    what is overdue.
    """
    sql = _Sql()
    scope: list[object] = [region, region + ".%", period.start, period.end]
    child_length = len(region) + (5 if region.count(".") == 2 else 3)
    counted = await sql.rows(
        f"""
        SELECT a.status, a.category, substr(a.region_id, 1, {child_length}) AS child,
          COUNT(*) AS n,
          SUM(CASE WHEN a.due_at IS NOT NULL AND {sql.before("a.due_at", "$5")}
            THEN 1 ELSE 0 END) AS overdue
        FROM aspiration AS a
        WHERE {_IN_SCOPE} AND {_in_period(sql, "a.created_at")}
        GROUP BY a.status, a.category, substr(a.region_id, 1, {child_length})
        """,
        [*scope, now],
    )
    by_status = dict.fromkeys(AspirationStatus, 0)
    by_category = dict.fromkeys(AspirationCategory, 0)
    by_code: dict[str, int] = {}
    overdue = 0
    for row in counted:
        n = int(str(row["n"]))
        by_status[AspirationStatus(str(row["status"]))] += n
        by_category[AspirationCategory(str(row["category"]))] += n
        code = str(row["child"])
        by_code[code] = by_code.get(code, 0) + n
        overdue += int(str(row["overdue"] or 0))
    return AspirationStats(
        region=region,
        period=period,
        now=now,
        total=sum(by_status.values()),
        by_status=by_status,
        by_category=by_category,
        by_child=await _children(region, by_code),
        overdue=overdue,
        steps=await _steps(sql, scope),
        announcements=await _announcements(sql, scope),
    )


async def _children(region: str, counts: dict[str, int]) -> list[ChildCount]:
    """Every region directly below, in code order, with its count (0 included)."""
    children = await models.Region.filter(parent_id=region).order_by("code")
    return [ChildCount(r.code, r.name, counts.get(r.code, 0)) for r in children]


async def _steps(sql: _Sql, scope: list[object]) -> dict[str, Durations]:
    """Each step's durations, from (submission day, step day) pairs counted in SQL.

    One pass over the region's history finds each aspiration's first row of
    every step; only those instants are turned into days.
    """
    firsts = ",\n".join(
        f"MIN(CASE WHEN {condition} THEN t.at END) AS {step}_at"
        for step, condition in _STEP_ENDS.items()
    )
    pairs = " UNION ALL ".join(
        f"""
        SELECT '{step}' AS step, day, {sql.local_date(f"{step}_at")} AS ended,
          COUNT(*) AS n
        FROM firsts WHERE {step}_at IS NOT NULL
        GROUP BY day, {sql.local_date(f"{step}_at")}"""
        for step in _STEP_ENDS
    )
    rows = await sql.rows(
        f"""
        WITH firsts AS MATERIALIZED (
          SELECT {sql.local_date("a.created_at")} AS day, {firsts}
          FROM aspiration AS a
          JOIN aspiration_transition AS t ON t.aspiration_id = a.id
          WHERE {_IN_SCOPE} AND {_in_period(sql, "a.created_at")}
            AND t.to_status IN ({", ".join(f"'{s}'" for s in _ENDING)})
          GROUP BY a.id, a.created_at
        ){pairs}
        """,
        scope,
    )
    found: dict[str, list[tuple[date, date, int]]] = {step: [] for step in _STEP_ENDS}
    for row in rows:
        found[str(row["step"])].append(
            (_date(row["day"]), _date(row["ended"]), int(str(row["n"])))
        )
    return {step: durations(pairs) for step, pairs in found.items()}


async def _announcements(sql: _Sql, scope: list[object]) -> AnnouncementStats:
    """Announcements whose validFrom falls in the period, targeted in the region."""
    rows = await sql.rows(
        f"""
        SELECT a.category, a.priority, COUNT(*) AS n
        FROM announcement AS a
        WHERE {_in_period(sql, "a.valid_from")} AND EXISTS (
          SELECT 1 FROM announcement_target AS target
          WHERE target.announcement_id = a.id
            AND (target.region_id = $1 OR target.region_id LIKE $2))
        GROUP BY a.category, a.priority
        """,
        scope,
    )
    by_category = dict.fromkeys(AnnouncementCategory, 0)
    by_priority = dict.fromkeys(AnnouncementPriority, 0)
    for row in rows:
        n = int(str(row["n"]))
        by_category[AnnouncementCategory(str(row["category"]))] += n
        by_priority[AnnouncementPriority(int(str(row["priority"])))] += n
    return AnnouncementStats(sum(by_category.values()), by_category, by_priority)


def _date(value: object) -> date:
    """A date column: a date from asyncpg, ISO text from SQLite."""
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))
