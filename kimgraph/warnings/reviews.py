"""The review queue: warnings a person publishes (choosing targets) or dismisses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tortoise.transactions import in_transaction

from kimgraph import announcements, audit, models
from kimgraph.accounts.principals import Principal, Role
from kimgraph.announcements.rules import MAX_REASON
from kimgraph.clock import Clock
from kimgraph.errors import ForbiddenError, UnauthenticatedError, invalid, not_found
from kimgraph.events.bus import Doorbell
from kimgraph.models import AnnouncementPriority, WarningReviewStatus


def enforce_reviewer(principal: Principal) -> None:
    """ADMIN or OFFICER whose region is a kabupaten/kota or above; raise otherwise.

    A warning can name any kecamatan of the kabupaten, so only staff over all
    of it decide on one.
    """
    if principal.role is None:
        raise UnauthenticatedError("sign in to review early warnings")
    region = principal.region_code or ""
    if principal.role not in (Role.ADMIN, Role.OFFICER) or region.count(".") > 1:
        raise ForbiddenError(
            "only an ADMIN or a kabupaten OFFICER may review early warnings"
        )


async def page(
    principal: Principal,
    status: WarningReviewStatus | None,
    after: int | None,
    limit: int,
) -> tuple[list[models.WarningReview], bool, int]:
    """Reviews newest first, after the id `after`: the page, more?, total."""
    enforce_reviewer(principal)
    query = models.WarningReview.all()
    if status is not None:
        query = query.filter(status=status)
    total = await query.count()
    if after is not None:
        query = query.filter(id__lt=after)
    rows = await query.order_by("-id").limit(limit + 1)
    return rows[:limit], len(rows) > limit, total


@dataclass(frozen=True, slots=True)
class Decided:
    """A decided review, and the announcement it published (if any)."""

    review: models.WarningReview
    announcement: models.Announcement | None = None


async def _pending(review_id: int | None) -> models.WarningReview:
    review = (
        await models.WarningReview.get_or_none(id=review_id)
        if review_id is not None
        else None
    )
    if review is None:
        raise not_found("there is no such warning review", "id")
    if review.status is not WarningReviewStatus.PENDING:
        raise invalid(f"the review is already {review.status.lower()}", "id")
    return review


async def _claim(
    review: models.WarningReview, status: WarningReviewStatus, values: dict[str, object]
) -> None:
    """Decide it, unless another reviewer did first (then INVALID, nothing changed)."""
    claimed = await models.WarningReview.filter(
        id=review.id, status=WarningReviewStatus.PENDING
    ).update(status=status, **values)
    if not claimed:
        raise invalid("the review was decided meanwhile", "id")
    await review.refresh_from_db()


async def publish(
    clock: Clock,
    doorbell: Doorbell,
    principal: Principal,
    review_id: int | None,
    targets: list[str],
    priority: AnnouncementPriority,
) -> Decided:
    """Publish the warning for the chosen targets and priority, as the reviewer."""
    enforce_reviewer(principal)
    review = await _pending(review_id)
    if review.title is None or review.body is None:
        raise invalid("a document that could not be read can only be dismissed", "id")
    now = clock.now()
    await _claim(
        review,
        WarningReviewStatus.PUBLISHED,
        {"decided_by": principal.display_name, "decided_at": now},
    )
    draft = announcements.Draft(
        title=review.title,
        body=review.body,
        category=models.AnnouncementCategory.DISASTER,
        targets=targets,
        priority=priority,
        valid_from=review.valid_from,
        valid_until=review.valid_until,
        review_id=review.id,
    )
    try:
        outcome = await announcements.publish(clock, doorbell, principal, draft)
    except BaseException:
        await _undo(review)
        raise
    review.announcement_id = outcome.announcement.id
    await review.save(update_fields=["announcement_id"])
    if review.thread_id is not None:
        await models.WarningThread.filter(id=review.thread_id).update(
            announcement_id=outcome.announcement.id
        )
    return Decided(review, outcome.announcement)


async def _undo(review: models.WarningReview) -> None:
    """Back to PENDING: the publication it was claimed for did not happen."""
    await models.WarningReview.filter(id=review.id).update(
        status=WarningReviewStatus.PENDING, decided_by=None, decided_at=None
    )


async def dismiss(
    clock: Clock,
    doorbell: Doorbell,
    principal: Principal,
    review_id: int | None,
    reason: str,
) -> Decided:
    """Decide not to publish; the reason is kept with the review."""
    enforce_reviewer(principal)
    review = await _pending(review_id)
    reason = " ".join(reason.split())
    if not 1 <= len(reason) <= MAX_REASON:
        raise invalid(f"must have 1-{MAX_REASON} characters", "reason")
    now: datetime = clock.now()
    async with in_transaction() as conn:
        await _claim(
            review,
            WarningReviewStatus.DISMISSED,
            {
                "decided_by": principal.display_name,
                "decided_at": now,
                "dismiss_reason": reason,
            },
        )
        await audit.record(
            conn,
            principal,
            audit.AuditAction.WARNING_REVIEW_DISMISS,
            audit.target("WarningReview", review.id),
            {"reason": reason},
            at=now,
        )
    return Decided(review)
