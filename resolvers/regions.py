"""Region queries: lookup by code and the filtered, paged list."""

from __future__ import annotations

from typing import Annotated

import strawberry

from kimgraph import regions
from kimgraph.context import Info
from kimgraph.cursors import CursorKind, decode_cursor
from kimgraph.regions.queries import RegionFilter, region_page
from schema.common import DEFAULT_PAGE_SIZE, After, Connection, First, page_size
from schema.regions import Region, RegionLevel, load_region, region_connection


@strawberry.type
class RegionQueries:
    @strawberry.field(
        description="The region with this Kemendagri code, or null if none has it. "
        "A malformed code is an INVALID_REGION_CODE error."
    )
    async def region(
        self,
        info: Info,
        code: Annotated[
            str, strawberry.argument(description="Dotted code, e.g. '61.04'.")
        ],
    ) -> Region | None:
        return await load_region(info, regions.validate(code))

    @strawberry.field(
        description="Regions in code order, optionally filtered by name, level and "
        "ancestor. An unknown `within` code is a NOT_FOUND error."
    )
    async def regions(
        self,
        search: Annotated[
            str | None,
            strawberry.argument(
                description="Part of the name; case- and accent-insensitive."
            ),
        ] = None,
        level: Annotated[
            RegionLevel | None,
            strawberry.argument(description="Only regions of this level."),
        ] = None,
        within: Annotated[
            str | None,
            strawberry.argument(
                description="Only regions below this code (the region itself excluded)."
            ),
        ] = None,
        first: First = DEFAULT_PAGE_SIZE,
        after: After = None,
    ) -> Connection[Region]:
        where = RegionFilter(
            search=search.strip() if search else None,
            level=level.domain if level is not None else None,
            within=regions.validate(within) if within is not None else None,
        )
        rows, has_next, total = await region_page(
            where, decode_cursor(CursorKind.REGION, after, str), page_size(first)
        )
        return region_connection(rows, has_next, total)
