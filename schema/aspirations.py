"""Aspiration types, their live events, inputs and payloads."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Self

import strawberry

from kimgraph import aspiration_workflow, models
from kimgraph.aspirations import Access, access_for, response_visible, withheld_text
from kimgraph.context import Info
from kimgraph.errors import InvalidCursorError
from schema.common import (
    Edge,
    Node,
    PageInfo,
    UserError,
    decode_cursor,
    encode_cursor,
    encode_global_id,
)

if TYPE_CHECKING:
    from schema.kims import Kim
    from schema.regions import Region

ASPIRATION_CURSOR = "asp"


@strawberry.enum(
    description="Where an aspiration stands in its workflow (DESIGN.md's table)."
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
    def domain(self) -> aspiration_workflow.AspirationStatus:
        """The same status as kimgraph spells it."""
        return aspiration_workflow.AspirationStatus[self.name]


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


def _status(value: aspiration_workflow.AspirationStatus) -> AspirationStatus:
    return AspirationStatus[value.name]


@strawberry.type(
    description="One step of an aspiration through its workflow; never changed."
)
class AspirationTransition:
    row: strawberry.Private[models.AspirationTransition]
    access: strawberry.Private[Access]

    @strawberry.field(name="from", description="The status before; null: submission.")
    def from_(self) -> AspirationStatus | None:
        status = self.row.from_status
        return _status(status) if status is not None else None

    @strawberry.field(description="The status after.")
    def to(self) -> AspirationStatus:
        return _status(self.row.to_status)

    @strawberry.field(
        description="Internal note; null unless the viewer is an officer in scope "
        "or an admin (and when there is none)."
    )
    def note(self) -> str | None:
        return self.row.note if self.access.internal else None

    @strawberry.field(description="Note for the reporter and the public; may be null.")
    def public_note(self) -> str | None:
        return self.row.public_note

    @strawberry.field(description="The unit it was disposed to, on a DISPOSED step.")
    def assigned_unit(self) -> str | None:
        return self.row.assigned_unit

    @strawberry.field(
        description="Who made the step: an account's display name, 'anonymous' "
        "for a citizen, or the server when a deadline passed. Never the reporter's "
        "name."
    )
    def actor_name(self) -> str:
        return self.row.actor_name

    @strawberry.field(description="When it happened.")
    def at(self) -> datetime:
        return self.row.at


@strawberry.type(description="A message about an aspiration.")
class AspirationResponse:
    row: strawberry.Private[models.AspirationResponse]

    @strawberry.field(description="The text.")
    def message(self) -> str:
        return self.row.message

    @strawberry.field(
        description="True: for the reporter and the public. False: internal, only "
        "for officers in scope and admins."
    )
    def public(self) -> bool:
        return self.row.public

    @strawberry.field(description="Display name of the office that wrote it.")
    def author_name(self) -> str:
        return self.row.author_name

    @strawberry.field(description="When it was written.")
    def at(self) -> datetime:
        return self.row.at


@dataclass(frozen=True, slots=True)
class Preloaded:
    """History and responses already loaded (for an event), instead of loaders."""

    history: tuple[models.AspirationTransition, ...]
    responses: tuple[models.AspirationResponse, ...]


@strawberry.type(
    description="A citizen's aspiration or complaint, followed by its public ticket. "
    "What a viewer reads depends on who they are: see `reporterName` and "
    "`contentWithheld`."
)
class Aspiration(Node):
    row: strawberry.Private[models.Aspiration]
    access: strawberry.Private[Access]
    preloaded: strawberry.Private[Preloaded | None]

    @strawberry.field(description="Opaque global id; pass it to `aspiration(id:)`.")
    def id(self) -> strawberry.ID:
        return encode_global_id("Aspiration", str(self.row.id))

    @strawberry.field(
        description="Public tracking number, e.g. 'ASP-6104-2026-7KQ3MXD9': the "
        "kabupaten, the year, and 8 random characters (no 0, O, 1, I or L), so no "
        "ticket can be guessed from another. Pass it to `aspirationTrack`."
    )
    def ticket(self) -> str:
        return self.row.ticket

    @strawberry.field(
        description="Headline, 1-200 characters; '(rahasia)' or '(disembunyikan "
        "moderator)' when `contentWithheld`."
    )
    def title(self) -> str:
        return self.row.title if self.access.content else withheld_text(self.row)

    @strawberry.field(
        description="The aspiration itself, 1-5,000 characters; a placeholder like "
        "`title` when `contentWithheld`."
    )
    def description(self) -> str:
        return self.row.description if self.access.content else withheld_text(self.row)

    @strawberry.field(
        description="True when this viewer may not read title, description and "
        "responses: a CONFIDENTIAL or hidden aspiration seen by the public, a "
        "partner app or another KIM."
    )
    def content_withheld(self) -> bool:
        return not self.access.content

    @strawberry.field(description="What it is about.")
    def category(self) -> AspirationCategory:
        return AspirationCategory[self.row.category.name]

    @strawberry.field(description="The desa or kelurahan where it arose.")
    async def region(
        self, info: Info
    ) -> Annotated[Region, strawberry.lazy("schema.regions")]:
        from schema.regions import region_from_model

        row = await info.context.loaders.regions_by_code.load(self.row.region_id)
        assert row is not None, "the region foreign key guarantees it exists"
        return region_from_model(row)

    @strawberry.field(
        description="The KIM that collected it (the reporter's KIM); null if none."
    )
    async def kim(
        self, info: Info
    ) -> Annotated[Kim, strawberry.lazy("schema.kims")] | None:
        from schema.kims import Kim

        if self.row.kim_id is None:
            return None
        row = await info.context.loaders.kims_by_id.load(self.row.kim_id)
        return Kim.from_model(row) if row is not None else None

    @strawberry.field(description="Where it stands in its workflow.")
    def status(self) -> AspirationStatus:
        return _status(self.row.status)

    @strawberry.field(
        description="Starts at 1; every status change adds 1 (responses and "
        "moderation do not). Pass it as `expectedVersion`."
    )
    def version(self) -> int:
        return self.row.version

    @strawberry.field(description="Who may read its content.")
    def visibility(self) -> AspirationVisibility:
        return AspirationVisibility[self.row.visibility.name]

    @strawberry.field(
        description="Hidden by a moderator: the public reads a placeholder instead "
        "of its content. Hiding never changes the status."
    )
    def hidden(self) -> bool:
        return self.row.hidden

    @strawberry.field(description="The OPD or office it was disposed to; null before.")
    def assigned_unit(self) -> str | None:
        return self.row.assigned_unit

    @strawberry.field(
        description="Working-day deadline of the current step (Asia/Pontianak, "
        "weekends, national holidays and cuti bersama skipped): verification 3 days "
        "after submission, the unit's response 5 after disposition, automatic "
        "RESOLVED 10 after RESPONDED, archiving 10 after NEEDS_INFO. Null when no "
        "deadline runs."
    )
    def due_at(self) -> datetime | None:
        return self.row.due_at

    @strawberry.field(description="True once `dueAt` has passed.")
    def overdue(self, info: Info) -> bool:
        due = self.row.due_at
        return due is not None and info.context.clock.now() > due

    @strawberry.field(
        description="The earlier aspiration this one duplicates; null if none or "
        "if the viewer may not read it."
    )
    async def duplicate_of(self, info: Info) -> Aspiration | None:
        if self.row.duplicate_of_id is None:
            return None
        row = await info.context.loaders.aspirations_by_id.load(
            self.row.duplicate_of_id
        )
        access = access_for(info.context.principal, row) if row is not None else None
        if row is None or access is None:
            return None
        # Within an event, the linked aspiration has no more rights than this one.
        return Aspiration.from_model(row, access.capped_by(self.access))

    @strawberry.field(
        description="The reporter's name: personal data, null unless the viewer is "
        "the reporter's KIM, an officer in scope or an admin (never in events)."
    )
    def reporter_name(self) -> str | None:
        return self.row.reporter_name if self.access.personal_data else None

    @strawberry.field(
        description="The reporter's phone or address: personal data, null unless "
        "the viewer is the reporter's KIM, an officer in scope or an admin (never "
        "in events)."
    )
    def reporter_contact(self) -> str | None:
        return self.row.reporter_contact if self.access.personal_data else None

    @strawberry.field(
        description="Every step, submission first. Internal notes only for officers "
        "in scope and admins."
    )
    async def history(self, info: Info) -> list[AspirationTransition]:
        if self.preloaded is not None:
            rows: Sequence[models.AspirationTransition] = self.preloaded.history
        else:
            rows = await info.context.loaders.aspiration_history_by_id.load(self.row.id)
        return [AspirationTransition(row=row, access=self.access) for row in rows]

    @strawberry.field(
        description="Responses, oldest first: the public ones when the viewer may "
        "read the content, internal ones too for officers in scope and admins."
    )
    async def responses(self, info: Info) -> list[AspirationResponse]:
        if self.preloaded is not None:
            rows: Sequence[models.AspirationResponse] = self.preloaded.responses
        else:
            rows = await info.context.loaders.aspiration_responses_by_id.load(
                self.row.id
            )
        return [
            AspirationResponse(row=row)
            for row in rows
            if response_visible(self.access, row)
        ]

    @strawberry.field(description="When it was submitted.")
    def created_at(self) -> datetime:
        return self.row.created_at

    @strawberry.field(description="When it last changed.")
    def updated_at(self) -> datetime:
        return self.row.updated_at

    @classmethod
    def from_model(
        cls,
        row: models.Aspiration,
        access: Access,
        preloaded: Preloaded | None = None,
    ) -> Self:
        """This type around a row, as a viewer with this access sees it."""
        return cls(row=row, access=access, preloaded=preloaded)


def aspiration_cursor_key(after: str | None) -> int | None:
    """The id inside an aspiration list cursor."""
    key = decode_cursor(ASPIRATION_CURSOR, after)
    if key is None:
        return None
    if not key.isdigit():
        raise InvalidCursorError(f"{after!r} is not a cursor of this list")
    return int(key)


@strawberry.type(description="A page of aspirations, newest first.")
class AspirationConnection:
    edges: list[Edge[Aspiration]] = strawberry.field(description="This page.")
    page_info: PageInfo = strawberry.field(description="Where this page sits.")
    total_count: int = strawberry.field(description="Items in the whole list.")
    event_cursor: str = strawberry.field(
        description="The event stream's position as of this read: subscribe to "
        "aspirationEvents with `after: eventCursor` to get every change since."
    )


def aspiration_connection(
    nodes: Sequence[Aspiration], has_next_page: bool, total: int, event_cursor: str
) -> AspirationConnection:
    """A connection page of aspirations keyed by id."""
    edges = [
        Edge(cursor=encode_cursor(ASPIRATION_CURSOR, str(node.row.id)), node=node)
        for node in nodes
    ]
    return AspirationConnection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=has_next_page, end_cursor=edges[-1].cursor if edges else None
        ),
        total_count=total,
        event_cursor=event_cursor,
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


@strawberry.input(description="A step through the workflow; see DESIGN.md's table.")
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
        description="Note for the reporter and the public, at most 2,000 characters: "
        "required for RESPONDED (the response) and NOT_AUTHORIZED (who is "
        "responsible).",
    )
    assigned_unit: str | None = strawberry.field(
        default=None,
        description="Only for DISPOSED: the OPD or office, at most 200 characters.",
    )
    duplicate_of_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only for DUPLICATE: the earlier aspiration's id."
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


@strawberry.type(description="The result of aspirationRespond.")
class AspirationRespondPayload(AspirationPayload):
    response: AspirationResponse | None = strawberry.field(
        default=None, description="The new response; null if userErrors is not empty."
    )


@strawberry.type(description="The result of aspirationModerate.")
class AspirationModeratePayload(AspirationPayload):
    pass
