"""Figures for the Bupati's recap: aspirations and announcements of a region.

Definitions (which history rows, how working days count, "overdue"):
docs/reports.md.
"""

from kimgraph.reports.access import staff_region
from kimgraph.reports.aspirations import (
    AnnouncementStats,
    AspirationStats,
    ChildCount,
    Period,
    aspiration_stats,
)
from kimgraph.reports.durations import Durations

__all__ = [
    "AnnouncementStats",
    "AspirationStats",
    "ChildCount",
    "Durations",
    "Period",
    "aspiration_stats",
    "staff_region",
]
