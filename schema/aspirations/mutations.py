"""Inputs and payloads of the aspiration mutations."""

from __future__ import annotations

import strawberry

from schema.aspirations.enums import (
    AspirationCategory,
    AspirationReporterAction,
    AspirationStatus,
    AspirationVisibility,
)
from schema.aspirations.types import Aspiration, AspirationResponse
from schema.common import UserError


@strawberry.input(description="A new aspiration.")
class AspirationSubmitInput:
    region: str = strawberry.field(
        description="Code of the desa or kelurahan where it arose."
    )
    title: str = strawberry.field(description="Headline, 1-200 characters.")
    description: str = strawberry.field(description="The aspiration, 1-5,000 chars.")
    category: AspirationCategory = strawberry.field(description="What it is about.")
    reporter_name: str | None = strawberry.field(
        default=None,
        description="The reporter's name, at most 200 characters; personal data.",
    )
    reporter_contact: str | None = strawberry.field(
        default=None,
        description="How to reach the reporter (phone, address), at most 200 "
        "characters; personal data.",
    )
    visibility: AspirationVisibility = strawberry.field(
        default=AspirationVisibility.CONFIDENTIAL,
        description="Who may read its content; CONFIDENTIAL unless chosen.",
    )
    kim_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="The KIM that collected it, serving the region; a KIM account "
        "always submits as itself.",
    )


@strawberry.input(
    description="A step through the workflow; see the table in "
    "docs/aspiration-workflow.md."
)
class AspirationTransitionInput:
    to: AspirationStatus = strawberry.field(description="The status to move to.")
    expected_version: int = strawberry.field(
        description="The version you last saw; a newer one gives CONFLICT."
    )
    note: str | None = strawberry.field(
        default=None,
        description="Internal note, at most 2,000 characters: the reason where one "
        "is required (NEEDS_INFO, ARCHIVED, REJECTED, back to VERIFIED, reopening), "
        "the added information on NEEDS_INFO → SUBMITTED.",
    )
    public_note: str | None = strawberry.field(
        default=None,
        description="Note for the reporter and the public, at most 2,000 characters; "
        "never personal data: required for RESPONDED (the response), NOT_AUTHORIZED "
        "(who is responsible), NEEDS_INFO (what the reporter must add), and "
        "ARCHIVED from SUBMITTED and REJECTED (the reason, for the reporter; the "
        "internal reason stays in note).",
    )
    assigned_unit: str | None = strawberry.field(
        default=None,
        description="Only for DISPOSED, and only where no unit serves the "
        "aspiration's region: the OPD or office as free text, at most 200 "
        "characters. Where units serve it, give unitId.",
    )
    unit_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="Only for DISPOSED: the unit to dispose to, one in use whose "
        "region holds the aspiration's (see `units`). Its members take the unit's "
        "steps from then on.",
    )
    duplicate_of_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only for DUPLICATE: the earlier aspiration's id."
    )


@strawberry.input(
    description="A reporter's step, with the ticket and the reporter key that "
    "aspirationSubmit returned; no account needed."
)
class AspirationReporterStepInput:
    ticket: str = strawberry.field(description="The ticket, e.g. ASP-6104-2026-….")
    key: str = strawberry.field(
        description="The reporter key, e.g. 7KQ3-MXD9-ABCD-EFGH (case and dashes "
        "do not matter)."
    )
    action: AspirationReporterAction = strawberry.field(description="The step.")
    text: str | None = strawberry.field(
        default=None,
        description="At most 2,000 characters, shown to everyone who follows the "
        "ticket as the step's public note: required for ANSWER (the information "
        "asked for), optional otherwise (why you confirm, dispute or withdraw). "
        "Do not write your name or contact here.",
    )
    expected_version: int | None = strawberry.field(
        default=None,
        description="The version you last saw (aspirationTrack); a newer one gives "
        "CONFLICT. Null: the current one.",
    )


@strawberry.input(
    description="A new reporter key for an aspiration whose reporter lost theirs, "
    'or never had one (docs/aspiration-workflow.md, "A lost key"). Name the '
    "aspiration by id or by ticket: exactly one of them."
)
class AspirationReporterKeyReissueInput:
    reason: str = strawberry.field(
        description="Why, 1-500 characters, kept in the audit trail: how the "
        "reporter was recognised (e.g. came to the office with the ticket). Never "
        "the reporter's name or contact."
    )
    id: strawberry.ID | None = strawberry.field(
        default=None, description="The aspiration's id; null: give ticket."
    )
    ticket: str | None = strawberry.field(
        default=None,
        description="The aspiration's ticket, as the reporter reads it out (any "
        "case); null: give id.",
    )


@strawberry.input(description="A response to an aspiration.")
class AspirationRespondInput:
    message: str = strawberry.field(description="1-5,000 characters.")
    public: bool = strawberry.field(
        default=True,
        description="True: for the reporter and the public; false: internal.",
    )


@strawberry.input(description="Hide an aspiration's content from the public, or not.")
class AspirationModerateInput:
    hidden: bool = strawberry.field(description="True hides, false shows again.")
    reason: str | None = strawberry.field(
        default=None, description="Why, at most 500 characters; required to hide."
    )


@strawberry.type(description="The result of aspirationSubmit.")
class AspirationSubmitPayload:
    aspiration: Aspiration | None = strawberry.field(
        default=None, description="The new aspiration; null if userErrors is not empty."
    )
    ticket: str | None = strawberry.field(
        default=None,
        description="Its public ticket: keep it to follow the aspiration with "
        "aspirationTrack; null if userErrors is not empty.",
    )
    reporter_key: str | None = strawberry.field(
        default=None,
        description="The reporter key, shown only here and only once (the server "
        "keeps only its hash): with the ticket, it lets the reporter answer a "
        "request for information, confirm or dispute a response, and withdraw "
        "(aspirationReporterStep). Null if userErrors is not empty.",
    )
    user_errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why nothing was submitted."
    )


@strawberry.type(description="The result of an aspiration mutation.")
class AspirationPayload:
    aspiration: Aspiration | None = strawberry.field(
        default=None, description="The aspiration; null if userErrors is not empty."
    )
    user_errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why nothing changed."
    )


@strawberry.type(description="The result of aspirationTransition.")
class AspirationTransitionPayload(AspirationPayload):
    pass


@strawberry.type(description="The result of aspirationReporterStep.")
class AspirationReporterStepPayload(AspirationPayload):
    pass


@strawberry.type(description="The result of aspirationReporterKeyReissue.")
class AspirationReporterKeyReissuePayload(AspirationPayload):
    reporter_key: str | None = strawberry.field(
        default=None,
        description="The new reporter key, shown only here and only once (the "
        "server keeps only its hash): hand it to the reporter. The old key stopped "
        "working with this call. Null if userErrors is not empty.",
    )


@strawberry.type(description="The result of aspirationRespond.")
class AspirationRespondPayload(AspirationPayload):
    response: AspirationResponse | None = strawberry.field(
        default=None, description="The new response; null if userErrors is not empty."
    )


@strawberry.type(description="The result of aspirationModerate.")
class AspirationModeratePayload(AspirationPayload):
    pass
