"""The early-warning review queue: types, inputs and payloads (docs/warnings.md)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Self

import strawberry

from kimgraph import models
from kimgraph.context import Info
from kimgraph.cursors import CursorKind, encode_cursor, encode_id
from schema.announcements import Announcement, AnnouncementPriority
from schema.common import Edge, PageInfo, UserError, page_info, user_errors_field
from schema.regions import Region, region_from_model


@strawberry.enum(description="Why a BMKG warning was not published automatically.")
class WarningReviewReason(enum.Enum):
    UNMATCHED = strawberry.enum_value(
        "UNMATCHED", description="An area name matched no region."
    )
    AMBIGUOUS = strawberry.enum_value(
        "AMBIGUOUS", description="An area name matched several regions."
    )
    SEVERITY = strawberry.enum_value(
        "SEVERITY", description="Minor or Unknown severity: never automatic."
    )
    INVALID = strawberry.enum_value(
        "INVALID",
        description="The document was refused (unsafe, not CAP 1.2) or broke an "
        "announcement rule.",
    )


@strawberry.enum(description="Where a warning review is.")
class WarningReviewStatus(enum.Enum):
    PENDING = strawberry.enum_value("PENDING", description="Waiting for a person.")
    PUBLISHED = strawberry.enum_value(
        "PUBLISHED", description="A reviewer published it."
    )
    DISMISSED = strawberry.enum_value(
        "DISMISSED", description="A reviewer decided not to publish it."
    )
    SUPERSEDED = strawberry.enum_value(
        "SUPERSEDED",
        description="A newer message of the same warning (Update, Cancel) replaced it.",
    )

    @property
    def domain(self) -> models.WarningReviewStatus:
        return models.WarningReviewStatus[self.name]


@strawberry.type(description="A BMKG warning waiting for, or decided by, a person.")
class WarningReview:
    row: strawberry.Private[models.WarningReview]

    @strawberry.field(description="Opaque id; pass it to the review mutations.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(encode_id("WarningReview", self.row.id))

    @strawberry.field(description="Why it was not published automatically.")
    def reason(self) -> WarningReviewReason:
        return WarningReviewReason[self.row.reason.name]

    @strawberry.field(description="The names or the fault, in words.")
    def detail(self) -> str:
        return self.row.detail

    @strawberry.field(description="Where it is.")
    def status(self) -> WarningReviewStatus:
        return WarningReviewStatus[self.row.status.name]

    @strawberry.field(
        description="CAP event, e.g. Hujan Lebat dan Petir; null if unreadable."
    )
    def event(self) -> str | None:
        return self.row.event

    @strawberry.field(
        description="CAP severity (Extreme … Unknown); null if unreadable."
    )
    def severity(self) -> str | None:
        return self.row.severity

    @strawberry.field(
        description="The title it would be published with; null if unreadable."
    )
    def title(self) -> str | None:
        return self.row.title

    @strawberry.field(
        description='The body it would be published with, ending "Sumber: BMKG"; '
        "null if unreadable."
    )
    def body(self) -> str | None:
        return self.row.body

    @strawberry.field(description="CAP effective; null if unreadable.")
    def valid_from(self) -> datetime | None:
        return self.row.valid_from

    @strawberry.field(description="CAP expires; null if unreadable or absent.")
    def valid_until(self) -> datetime | None:
        return self.row.valid_until

    @strawberry.field(description="The regions its names matched exactly, if any.")
    async def suggested_targets(self, info: Info) -> list[Region]:
        codes = [c for c in self.row.suggested_targets.split(",") if c]
        rows = await info.context.loaders.regions_by_code.load_many(codes)
        return [region_from_model(r) for r in rows if r is not None]

    @strawberry.field(description="The announcement it was published as; null if none.")
    async def announcement(self, info: Info) -> Announcement | None:
        if self.row.announcement_id is None:
            return None
        row = await info.context.loaders.announcements_by_id.load(
            self.row.announcement_id
        )
        return Announcement.from_model(row) if row is not None else None

    @strawberry.field(description="Display name of who decided; null while PENDING.")
    def decided_by(self) -> str | None:
        return self.row.decided_by

    @strawberry.field(description="When it was decided; null while PENDING.")
    def decided_at(self) -> datetime | None:
        return self.row.decided_at

    @strawberry.field(description="Why it was dismissed; null unless DISMISSED.")
    def dismiss_reason(self) -> str | None:
        return self.row.dismiss_reason

    @strawberry.field(description="When the warning arrived.")
    def created_at(self) -> datetime:
        return self.row.created_at

    @classmethod
    def from_model(cls, row: models.WarningReview) -> Self:
        return cls(row=row)


@strawberry.type(description="A page of warning reviews, newest first.")
class WarningReviewConnection:
    edges: list[Edge[WarningReview]] = strawberry.field(description="This page.")
    page_info: PageInfo = strawberry.field(description="Where this page sits.")
    total_count: int = strawberry.field(description="Items in the whole list.")

    @classmethod
    def of(cls, rows: list[models.WarningReview], has_next: bool, total: int) -> Self:
        edges = [
            Edge(
                cursor=encode_cursor(CursorKind.WARNING_REVIEW, row.id),
                node=WarningReview.from_model(row),
            )
            for row in rows
        ]
        return cls(edges=edges, page_info=page_info(edges, has_next), total_count=total)


@strawberry.input(description="How to publish a reviewed warning.")
class WarningReviewPublishInput:
    targets: list[str] = strawberry.field(
        description="Codes of 1-50 regions within the caller's scope."
    )
    priority: AnnouncementPriority = strawberry.field(description="How urgent it is.")


@strawberry.type(description="The result of warningReviewPublish.")
class WarningReviewPublishPayload:
    review: WarningReview | None = strawberry.field(
        default=None, description="The review; null if userErrors is not empty."
    )
    announcement: Announcement | None = strawberry.field(
        default=None,
        description="The new announcement; null if userErrors is not empty.",
    )
    user_errors: list[UserError] = user_errors_field("Why nothing changed.")


@strawberry.type(description="The result of warningReviewDismiss.")
class WarningReviewDismissPayload:
    review: WarningReview | None = strawberry.field(
        default=None, description="The review; null if userErrors is not empty."
    )
    user_errors: list[UserError] = user_errors_field("Why nothing changed.")
