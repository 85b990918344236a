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
from kimgraph.models.audit import AuditEntry
from kimgraph.models.events import Event, EventLogState, Timer
from kimgraph.models.idempotency import IdempotencyKey
from kimgraph.models.kims import Kim, KimMember, KimRole
from kimgraph.models.presence import BoardPresence
from kimgraph.models.regions import Region, RegionLevel
from kimgraph.models.units import Unit, UnitMember
from kimgraph.models.warnings import (
    WarningMessage,
    WarningOutcome,
    WarningPollerLease,
    WarningReview,
    WarningReviewReason,
    WarningReviewStatus,
    WarningThread,
)
from kimgraph.models.webhooks import (
    DeliveryStatus,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookStatus,
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
    "AuditEntry",
    "BoardPresence",
    "DeliveryStatus",
    "Event",
    "EventLogState",
    "IdempotencyKey",
    "Kim",
    "KimMember",
    "KimRole",
    "Region",
    "RegionLevel",
    "Timer",
    "Unit",
    "UnitMember",
    "WarningMessage",
    "WarningOutcome",
    "WarningPollerLease",
    "WarningReview",
    "WarningReviewReason",
    "WarningReviewStatus",
    "WarningThread",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookStatus",
]
