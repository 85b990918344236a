"""Reads of the region table: batched lookups and the filtered, keyset-paged list."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tortoise.queryset import QuerySet

from kimgraph import models
from kimgraph.errors import NotFoundError
from kimgraph.models.regions import RegionLevel
from kimgraph.regions.codes import fold_name, validate


async def regions_by_codes(codes: Sequence[str]) -> dict[str, models.Region]:
    """The regions among codes that exist, keyed by code."""
    rows = await models.Region.filter(code__in=list(codes))
    return {row.code: row for row in rows}


async def children_by_codes(codes: Sequence[str]) -> dict[str, list[models.Region]]:
    """The direct children of each code, ordered by code."""
    grouped: dict[str, list[models.Region]] = {code: [] for code in codes}
    rows = await models.Region.filter(parent_id__in=list(codes)).order_by("code")
    for row in rows:
        grouped[str(row.parent_id)].append(row)
    return grouped


def no_such_region(code: str) -> NotFoundError:
    """The error for a well-formed code that names no region."""
    return NotFoundError(f"there is no region with code {code}")


async def require_region(code: str) -> models.Region:
    """The region with this well-formed code; NotFoundError if there is none."""
    row = await models.Region.get_or_none(code=validate(code))
    if row is None:
        raise no_such_region(code)
    return row


@dataclass(frozen=True, slots=True)
class RegionFilter:
    """The arguments of `regions(search, level, within)`, already checked."""

    search: str | None = None
    level: RegionLevel | None = None
    within: str | None = None

    def queryset(self) -> QuerySet[models.Region]:
        """Matching regions, in code order."""
        query = models.Region.all()
        if self.search:
            query = query.filter(search_name__contains=fold_name(self.search))
        if self.level is not None:
            query = query.filter(level=self.level)
        if self.within is not None:
            # A whole-segment prefix: "61.04." never matches "61.041…". LIKE is
            # literal under every collation, unlike a range on "61.04/".
            query = query.filter(code__startswith=self.within + ".")
        return query.order_by("code")


async def region_page(
    where: RegionFilter, after_code: str | None, limit: int
) -> tuple[list[models.Region], bool, int]:
    """Up to `limit` regions after `after_code`, whether more follow, and the total."""
    if where.within is not None:
        await require_region(where.within)
    query = where.queryset()
    total = await query.count()
    if after_code is not None:
        query = query.filter(code__gt=after_code)
    rows = await query.limit(limit + 1)
    return rows[:limit], len(rows) > limit, total
