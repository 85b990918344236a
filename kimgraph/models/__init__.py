"""Tortoise models, one module per domain."""

from kimgraph.models.accounts import AccessToken, Account, ApiKey
from kimgraph.models.announcements import (
    Announcement,
    AnnouncementCategory,
    AnnouncementPriority,
    AnnouncementTarget,
)
from kimgraph.models.aspirations import (
    Aspiration,
    AspirationCategory,
    AspirationResponse,
    AspirationStatus,
    AspirationTransition,
    AspirationVisibility,
)
from kimgraph.models.events import Event, EventLogState, Timer
from kimgraph.models.idempotency import IdempotencyKey
from kimgraph.models.kims import Kim, KimMember, KimRole
from kimgraph.models.regions import Region, RegionLevel
from kimgraph.models.warnings import (
    WarningMessage,
    WarningOutcome,
    WarningPollerLease,
    WarningReview,
    WarningReviewReason,
    WarningReviewStatus,
    WarningThread,
)

__all__ = [
    "AccessToken",
    "Account",
    "Announcement",
    "AnnouncementCategory",
    "AnnouncementPriority",
    "AnnouncementTarget",
    "ApiKey",
    "Aspiration",
    "AspirationCategory",
    "AspirationResponse",
    "AspirationStatus",
    "AspirationTransition",
    "AspirationVisibility",
    "Event",
    "EventLogState",
    "IdempotencyKey",
    "Kim",
    "KimMember",
    "KimRole",
    "Region",
    "RegionLevel",
    "Timer",
    "WarningMessage",
    "WarningOutcome",
    "WarningPollerLease",
    "WarningReview",
    "WarningReviewReason",
    "WarningReviewStatus",
    "WarningThread",
]
