"""Aspiration enums: status, visibility, category."""

from __future__ import annotations

import enum

import strawberry

from kimgraph import models
from kimgraph.aspirations.reporter import ReporterAction


@strawberry.enum(
    description="Where an aspiration stands in its workflow (the transition table "
    "in docs/aspiration-workflow.md)."
)
class AspirationStatus(enum.Enum):
    SUBMITTED = strawberry.enum_value(
        "SUBMITTED", description="Received; a verifier checks it within 3 working days."
    )
    NEEDS_INFO = strawberry.enum_value(
        "NEEDS_INFO",
        description="The reporter is asked for more information; archived after 10 "
        "working days without it.",
    )
    VERIFIED = strawberry.enum_value(
        "VERIFIED", description="Checked and accepted; waiting to be disposed."
    )
    DISPOSED = strawberry.enum_value(
        "DISPOSED",
        description="Passed to the unit in `assignedUnit`, which responds within 5 "
        "working days.",
    )
    IN_PROGRESS = strawberry.enum_value(
        "IN_PROGRESS", description="The unit is working on it."
    )
    RESPONDED = strawberry.enum_value(
        "RESPONDED",
        description="The unit answered; resolved by itself after 10 working days "
        "without a dispute.",
    )
    RESOLVED = strawberry.enum_value("RESOLVED", description="Done.")
    REJECTED = strawberry.enum_value(
        "REJECTED", description="The unit declined it, with a reason."
    )
    NOT_AUTHORIZED = strawberry.enum_value(
        "NOT_AUTHORIZED",
        description="Not for this government; the public note says who is responsible.",
    )
    DUPLICATE = strawberry.enum_value(
        "DUPLICATE", description="The same as an earlier aspiration (`duplicateOf`)."
    )
    ARCHIVED = strawberry.enum_value(
        "ARCHIVED", description="Closed without handling (e.g. no information came)."
    )
    WITHDRAWN = strawberry.enum_value(
        "WITHDRAWN", description="Withdrawn on the reporter's behalf."
    )

    @property
    def domain(self) -> models.AspirationStatus:
        """The same status as kimgraph spells it."""
        return models.AspirationStatus[self.name]


@strawberry.enum(
    description="Who may read an aspiration's content. The reporter's name and "
    "contact are never public, whatever the visibility."
)
class AspirationVisibility(enum.Enum):
    PUBLIC = strawberry.enum_value(
        "PUBLIC", description="Content readable by anyone (the reporter consents)."
    )
    ANONYMOUS = strawberry.enum_value(
        "ANONYMOUS", description="Content readable by anyone, the reporter unnamed."
    )
    CONFIDENTIAL = strawberry.enum_value(
        "CONFIDENTIAL",
        description="The default: content only for the reporter's KIM, officers in "
        "scope and admins; others read '(rahasia)'.",
    )

    @property
    def domain(self) -> models.AspirationVisibility:
        """The same visibility as kimgraph spells it."""
        return models.AspirationVisibility[self.name]


@strawberry.enum(
    description="A step the reporter takes with the ticket and its reporter key."
)
class AspirationReporterAction(enum.Enum):
    ANSWER = strawberry.enum_value(
        "ANSWER",
        description="NEEDS_INFO → SUBMITTED: give the information asked for, in "
        "`text` (required; shown in the history as a public note).",
    )
    CONFIRM = strawberry.enum_value(
        "CONFIRM", description="RESPONDED → RESOLVED: the response settles it."
    )
    DISPUTE = strawberry.enum_value(
        "DISPUTE", description="RESPONDED → IN_PROGRESS: the response does not."
    )
    WITHDRAW = strawberry.enum_value(
        "WITHDRAW",
        description="→ WITHDRAWN, from SUBMITTED, NEEDS_INFO, VERIFIED, DISPOSED "
        "or IN_PROGRESS.",
    )

    @property
    def domain(self) -> ReporterAction:
        """The same action as kimgraph spells it."""
        return ReporterAction[self.name]


@strawberry.enum(description="What an aspiration is about.")
class AspirationCategory(enum.Enum):
    INFRASTRUCTURE = strawberry.enum_value(
        "INFRASTRUCTURE", description="Roads, bridges, water, power."
    )
    PUBLIC_SERVICE = strawberry.enum_value(
        "PUBLIC_SERVICE", description="Administrative services (KTP, KK, permits)."
    )
    HEALTH = strawberry.enum_value("HEALTH", description="Health.")
    EDUCATION = strawberry.enum_value("EDUCATION", description="Education.")
    SOCIAL = strawberry.enum_value("SOCIAL", description="Social assistance.")
    ECONOMY = strawberry.enum_value("ECONOMY", description="Economy and trade.")
    AGRICULTURE = strawberry.enum_value(
        "AGRICULTURE", description="Farming, plantations, fishing."
    )
    ENVIRONMENT = strawberry.enum_value(
        "ENVIRONMENT", description="Waste, pollution, land."
    )
    SECURITY = strawberry.enum_value("SECURITY", description="Public order.")
    DISASTER = strawberry.enum_value("DISASTER", description="Floods, fires.")
    GOVERNMENT = strawberry.enum_value(
        "GOVERNMENT", description="Government and village administration."
    )
    OTHER = strawberry.enum_value("OTHER", description="Anything else.")

    @property
    def domain(self) -> models.AspirationCategory:
        """The same category as kimgraph spells it."""
        return models.AspirationCategory[self.name]
