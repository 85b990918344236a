"""Announcements: publishing and its rules, reads, the status clock, timers."""

from kimgraph.announcements.commands import (
    Changes,
    Draft,
    Outcome,
    publish,
    relay,
    update,
    withdraw,
)
from kimgraph.announcements.records import STREAM, EventKind, Status, status_of
from kimgraph.announcements.timers import TIMER_HANDLERS

__all__ = [
    "STREAM",
    "TIMER_HANDLERS",
    "Changes",
    "Draft",
    "EventKind",
    "Outcome",
    "Status",
    "publish",
    "relay",
    "status_of",
    "update",
    "withdraw",
]
