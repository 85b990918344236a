"""The early-warning review queue: warningReviews and its two decisions."""

from __future__ import annotations

from typing import Annotated

import strawberry

from kimgraph.context import Info
from kimgraph.cursors import CursorKind, decode_cursor, decode_id, row_id
from kimgraph.warnings import reviews
from resolvers.commands import run_command
from schema.announcements import Announcement
from schema.common import DEFAULT_PAGE_SIZE, After, First, mutation, page_size
from schema.warnings import (
    WarningReview,
    WarningReviewConnection,
    WarningReviewDismissPayload,
    WarningReviewPublishInput,
    WarningReviewPublishPayload,
    WarningReviewStatus,
)

ReviewId = Annotated[strawberry.ID, strawberry.argument(description="The review's id.")]


@strawberry.type
class WarningQueries:
    @strawberry.field(
        description="BMKG warnings not published automatically (docs/warnings.md), "
        "newest first. For an ADMIN or an OFFICER of a kabupaten/kota or above."
    )
    async def warning_reviews(
        self,
        info: Info,
        status: Annotated[
            WarningReviewStatus | None,
            strawberry.argument(description="Only this status; null for all."),
        ] = WarningReviewStatus.PENDING,
        first: First = DEFAULT_PAGE_SIZE,
        after: After = None,
    ) -> WarningReviewConnection:
        rows, has_next, total = await reviews.page(
            info.context.principal,
            status.domain if status is not None else None,
            decode_cursor(CursorKind.WARNING_REVIEW, after, row_id),
            page_size(first),
        )
        return WarningReviewConnection.of(rows, has_next, total)


@strawberry.type
class WarningMutations:
    @mutation("Publish a reviewed warning for the regions and priority you choose.")
    async def warning_review_publish(
        self,
        info: Info,
        id: ReviewId,
        input: Annotated[
            WarningReviewPublishInput, strawberry.argument(description="How.")
        ],
    ) -> WarningReviewPublishPayload:
        decided = await run_command(
            info,
            reviews.publish,
            decode_id("WarningReview", id),
            input.targets,
            input.priority.domain,
        )
        assert decided.announcement is not None, "a published review has one"
        return WarningReviewPublishPayload(
            review=WarningReview.from_model(decided.review),
            announcement=Announcement.from_model(decided.announcement),
        )

    @mutation("Decide not to publish a warning; the reason is kept.")
    async def warning_review_dismiss(
        self,
        info: Info,
        id: ReviewId,
        reason: Annotated[
            str, strawberry.argument(description="Why, 1-500 characters.")
        ],
    ) -> WarningReviewDismissPayload:
        decided = await run_command(
            info, reviews.dismiss, decode_id("WarningReview", id), reason
        )
        return WarningReviewDismissPayload(
            review=WarningReview.from_model(decided.review)
        )
