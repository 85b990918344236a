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
    AspirationTransition,
    AspirationVisibility,
)
from kimgraph.models.events import Event, EventLogState, Timer
from kimgraph.models.kims import Kim, KimMember, KimRole
from kimgraph.models.regions import Region

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
    "AspirationTransition",
    "AspirationVisibility",
    "Event",
    "EventLogState",
    "Kim",
    "KimMember",
    "KimRole",
    "Region",
    "Timer",
]
