"""Aspirations (aspirasi): submission, the workflow, responses, moderation, timers."""

from kimgraph.aspirations import redaction
from kimgraph.aspirations.access import (
    FULL,
    Access,
    access_for,
    public_access,
    response_visible,
    withheld_text,
)
from kimgraph.aspirations.deadlines import TIMER_HANDLERS
from kimgraph.aspirations.handling import Step, moderate, respond, transition
from kimgraph.aspirations.records import STREAM, EventKind, Outcome
from kimgraph.aspirations.submission import (
    Submission,
    new_ticket,
    normalize_ticket,
    submit,
)

__all__ = [
    "FULL",
    "STREAM",
    "TIMER_HANDLERS",
    "Access",
    "EventKind",
    "Outcome",
    "Step",
    "Submission",
    "access_for",
    "moderate",
    "new_ticket",
    "normalize_ticket",
    "public_access",
    "redaction",
    "respond",
    "response_visible",
    "submit",
    "transition",
    "withheld_text",
]
