"""Reports: aspirationStats, the figures of the Bupati's recap."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import strawberry

from kimgraph import reports
from kimgraph.context import Info
from schema.reports import AspirationStats


@strawberry.type
class ReportQueries:
    @strawberry.field(
        description="The recap of aspirations submitted in a region (and below) "
        "during a period, with its announcements (docs/reports.md). For an ADMIN "
        "or an OFFICER whose region holds it; others get FORBIDDEN. A period "
        "covers at most 366 days."
    )
    async def aspiration_stats(
        self,
        info: Info,
        region: Annotated[
            str, strawberry.argument(description="Dotted code, e.g. '61.04'.")
        ],
        from_: Annotated[
            date,
            strawberry.argument(
                name="from", description="First day (Asia/Pontianak), included."
            ),
        ],
        to: Annotated[
            date,
            strawberry.argument(description="Last day (Asia/Pontianak), included."),
        ],
    ) -> AspirationStats:
        code = reports.staff_region(info.context.principal, region, "reports")
        period = reports.Period(from_, to)
        found = await reports.aspiration_stats(code, period, info.context.clock.now())
        return AspirationStats(stats=found)
