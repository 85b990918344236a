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
from kimgraph.models.kims import Kim, KimMember, KimRole
from kimgraph.models.regions import Region, RegionLevel

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
    "Kim",
    "KimMember",
    "KimRole",
    "Region",
    "RegionLevel",
    "Timer",
]
