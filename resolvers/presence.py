"""Board presence: boards(region), the desa whose notice boards report in."""

from __future__ import annotations

from typing import Annotated

import strawberry

from kimgraph import presence, reports
from kimgraph.context import Info
from kimgraph.cursors import CursorKind, decode_cursor
from kimgraph.regions.codes import validate
from schema.common import DEFAULT_PAGE_SIZE, After, Connection, First, page_size
from schema.presence import BoardPresence, board_connection


@strawberry.type
class PresenceQueries:
    @strawberry.field(
        description="Every desa/kelurahan in a region whose notice board has ever "
        "reported in, in code order, online or not: a desa never seen is absent "
        "(docs/presence.md). For an ADMIN or an OFFICER whose region holds it; "
        "others get FORBIDDEN."
    )
    async def boards(
        self,
        info: Info,
        region: Annotated[
            str, strawberry.argument(description="Dotted code, e.g. '61.04'.")
        ],
        first: First = DEFAULT_PAGE_SIZE,
        after: After = None,
    ) -> Connection[BoardPresence]:
        context = info.context
        code = reports.staff_region(context.principal, region, "board presence")
        rows, has_next, total = await presence.board_page(
            code,
            context.clock.now(),
            presence.stale_after(context.settings.board_heartbeat_seconds),
            decode_cursor(CursorKind.BOARD, after, validate),
            page_size(first),
        )
        return board_connection(rows, has_next, total)
