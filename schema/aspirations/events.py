"""Aspiration events as subscribers receive them."""

from __future__ import annotations

import enum
from datetime import datetime

import strawberry

from schema.aspirations.enums import AspirationStatus
from schema.aspirations.types import Aspiration


@strawberry.enum(description="What happened to an aspiration.")
class AspirationEventKind(enum.Enum):
    SUBMITTED = strawberry.enum_value("SUBMITTED", description="It was submitted.")
    TRANSITIONED = strawberry.enum_value(
        "TRANSITIONED",
        description="Its status changed (`from`, `to`); also when a deadline passed.",
    )
    RESPONDED = strawberry.enum_value(
        "RESPONDED", description="A response was added (`note` is its message)."
    )
    MODERATED = strawberry.enum_value(
        "MODERATED", description="It was hidden or shown again by a moderator."
    )
    OVERDUE = strawberry.enum_value(
        "OVERDUE",
        description="The deadline of its current step passed with the step not "
        "taken (verification, disposition, the unit's response): once per "
        "deadline; `occurredAt` is the moment it passed, `from`, `to` and `note` "
        "are null. The status does not change.",
    )


@strawberry.type(
    description="A change to an aspiration, live or replayed. Never carries the "
    "reporter's personal data or internal notes, whoever subscribes."
)
class AspirationEvent:
    cursor: str = strawberry.field(
        description="Position of this event; resubscribe with `after: cursor`."
    )
    kind: AspirationEventKind = strawberry.field(description="What happened.")
    occurred_at: datetime = strawberry.field(description="When it happened.")
    aspiration: Aspiration = strawberry.field(
        description="The aspiration as it is now, as this subscriber may see it, "
        "without personal data and internal notes."
    )
    from_: AspirationStatus | None = strawberry.field(
        name="from", description="TRANSITIONED: the status before; otherwise null."
    )
    to: AspirationStatus | None = strawberry.field(
        description="TRANSITIONED and SUBMITTED: the status after; otherwise null."
    )
    note: str | None = strawberry.field(
        description="TRANSITIONED: the public note. RESPONDED: the public response, "
        "if this subscriber may read the content. Internal notes and internal "
        "responses never travel in events."
    )
