"""aspirationStats: the figures of a region's recap (docs/reports.md)."""

from __future__ import annotations

from datetime import date

import strawberry

from kimgraph.context import Info
from kimgraph.reports import AspirationStats as Stats
from kimgraph.reports import Durations
from schema.announcements import AnnouncementCategory, AnnouncementPriority
from schema.aspirations.enums import AspirationCategory, AspirationStatus
from schema.regions import Region, region_of


@strawberry.type(description="How many aspirations have a status.")
class AspirationStatusCount:
    status: AspirationStatus = strawberry.field(description="The status now.")
    count: int = strawberry.field(description="Aspirations of the period in it.")


@strawberry.type(description="How many aspirations are about a category.")
class AspirationCategoryCount:
    category: AspirationCategory = strawberry.field(description="The category.")
    count: int = strawberry.field(description="Aspirations of the period in it.")


@strawberry.type(description="How many aspirations were raised in a child region.")
class RegionCount:
    code: strawberry.Private[str]
    count: int = strawberry.field(
        description="Aspirations of the period raised in it or below it."
    )

    @strawberry.field(description="A region directly below the report's region.")
    async def region(self, info: Info) -> Region:
        return await region_of(info, self.code)


@strawberry.type(
    description="Working days from submission to a step, over the aspirations of "
    "the period that reached it (Asia/Pontianak; weekends, national holidays and "
    "cuti bersama skipped; docs/reports.md)."
)
class WorkingDays:
    count: int = strawberry.field(
        description="Aspirations of the period that reached the step."
    )
    median: float | None = strawberry.field(
        description="The median; for an even count the mean of the two middle "
        "values. Null when none reached the step."
    )
    p90: int | None = strawberry.field(
        description="The 90th percentile by nearest rank: the fewest days within "
        "which at least 90 % reached the step. Null when none did."
    )

    @classmethod
    def of(cls, found: Durations) -> WorkingDays:
        return cls(count=found.count, median=found.median, p90=found.p90)


@strawberry.type(description="How many announcements are about a category.")
class AnnouncementCategoryCount:
    category: AnnouncementCategory = strawberry.field(description="The category.")
    count: int = strawberry.field(description="Announcements of the period.")


@strawberry.type(description="How many announcements have a priority.")
class AnnouncementPriorityCount:
    priority: AnnouncementPriority = strawberry.field(description="The priority.")
    count: int = strawberry.field(description="Announcements of the period.")


@strawberry.type(
    description="Announcements whose validFrom falls in the period, targeted at "
    "the region or below it (withdrawn ones included)."
)
class AnnouncementStats:
    total: int = strawberry.field(description="How many.")
    by_category: list[AnnouncementCategoryCount] = strawberry.field(
        description="Every category, in the enum's order, 0 included."
    )
    by_priority: list[AnnouncementPriorityCount] = strawberry.field(
        description="Every priority, lowest first, 0 included."
    )


@strawberry.type(
    description="The recap of a region's aspirations submitted in a period "
    "(Asia/Pontianak days, both ends included), and of its announcements. "
    "Definitions: docs/reports.md."
)
class AspirationStats:
    stats: strawberry.Private[Stats]

    @strawberry.field(description="The region reported on, and everything below it.")
    async def region(self, info: Info) -> Region:
        return await region_of(info, self.stats.region)

    @strawberry.field(name="from", description="The first day of the period.")
    def from_(self) -> date:
        return self.stats.period.start

    @strawberry.field(description="The last day of the period (included).")
    def to(self) -> date:
        return self.stats.period.end

    @strawberry.field(description="Aspirations submitted in the period.")
    def total(self) -> int:
        return self.stats.total

    @strawberry.field(
        description="Every status, in the enum's order, 0 included: where the "
        "period's aspirations stand now."
    )
    def by_status(self) -> list[AspirationStatusCount]:
        return [
            AspirationStatusCount(status=AspirationStatus[s.name], count=n)
            for s, n in self.stats.by_status.items()
        ]

    @strawberry.field(description="Every category, in the enum's order, 0 included.")
    def by_category(self) -> list[AspirationCategoryCount]:
        return [
            AspirationCategoryCount(category=AspirationCategory[c.name], count=n)
            for c, n in self.stats.by_category.items()
        ]

    @strawberry.field(
        description="Every region directly below (kabupaten of a provinsi, "
        "kecamatan of a kabupaten, desa and kelurahan of a kecamatan) in code "
        "order, 0 included; empty for a desa."
    )
    def by_region(self) -> list[RegionCount]:
        return [RegionCount(code=c.code, count=c.count) for c in self.stats.by_child]

    @strawberry.field(
        description="To a verifier's first decision on the submission (VERIFIED, "
        "NEEDS_INFO, DUPLICATE, NOT_AUTHORIZED or ARCHIVED)."
    )
    def to_verify(self) -> WorkingDays:
        return WorkingDays.of(self.stats.steps["verify"])

    @strawberry.field(description="To the first DISPOSED.")
    def to_dispose(self) -> WorkingDays:
        return WorkingDays.of(self.stats.steps["dispose"])

    @strawberry.field(description="To the unit's first RESPONDED.")
    def to_respond(self) -> WorkingDays:
        return WorkingDays.of(self.stats.steps["respond"])

    @strawberry.field(
        description="Aspirations of the period whose `dueAt` has passed now "
        "(Aspiration.overdue)."
    )
    def overdue(self) -> int:
        return self.stats.overdue

    @strawberry.field(description="The region's announcements of the period.")
    def announcements(self) -> AnnouncementStats:
        found = self.stats.announcements
        return AnnouncementStats(
            total=found.total,
            by_category=[
                AnnouncementCategoryCount(
                    category=AnnouncementCategory[c.name], count=n
                )
                for c, n in found.by_category.items()
            ],
            by_priority=[
                AnnouncementPriorityCount(
                    priority=AnnouncementPriority[p.name], count=n
                )
                for p, n in found.by_priority.items()
            ],
        )
