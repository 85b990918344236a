"""The aspiration type and the history and responses it carries."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Self

import strawberry

from kimgraph import models
from kimgraph.aspirations import Access, access_for, response_visible, withheld_text
from kimgraph.context import Info
from kimgraph.cursors import encode_id
from schema.aspirations.enums import (
    AspirationCategory,
    AspirationStatus,
    AspirationVisibility,
)
from schema.common import Node
from schema.kims import Kim, load_kim
from schema.regions import Region, region_of
from schema.units import Unit, load_unit


def _status(value: models.AspirationStatus) -> AspirationStatus:
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
        description="The unit it was disposed to (DISPOSED) or taken for (a "
        "unit's step, by a member or an ADMIN for the unit); null otherwise and "
        "on steps from before units."
    )
    async def unit(self, info: Info) -> Unit | None:
        return await load_unit(info, self.row.unit_id)

    @strawberry.field(
        description="The part the actor played: VERIFIER, UNIT, ADMIN_FOR_UNIT (an "
        "ADMIN taking a unit's step, its reason in the internal note), "
        "REPORTER_KIM, REPORTER (the reporter with ticket and reporter key, by "
        "aspirationReporterStep), TIMER; REPORTER or REPORTER_KIM on submission."
    )
    def acting_as(self) -> str:
        return self.row.capacity

    @strawberry.field(
        description="Who made the step: an account's display name, 'anonymous' "
        "for a citizen, 'Pelapor' for the reporter's own steps with the reporter "
        "key, or the server when a deadline passed. Never the reporter's "
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
        return strawberry.ID(encode_id("Aspiration", self.row.id))

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
    async def region(self, info: Info) -> Region:
        return await region_of(info, self.row.region_id)

    @strawberry.field(
        description="The KIM that collected it (the reporter's KIM); null if none."
    )
    async def kim(self, info: Info) -> Kim | None:
        return await load_kim(info, self.row.kim_id)

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

    @strawberry.field(
        description="The name of the OPD or office it was disposed to (the unit's "
        "name as it was then; free text on aspirations disposed before units); "
        "null before."
    )
    def assigned_unit(self) -> str | None:
        return self.row.assigned_unit

    @strawberry.field(
        description="The unit it is disposed to; null before disposition and for "
        "aspirations disposed by free text before units."
    )
    async def unit(self, info: Info) -> Unit | None:
        return await load_unit(info, self.row.unit_id)

    @strawberry.field(
        description="Working-day deadline of the current step (Asia/Pontianak, "
        "weekends, national holidays and cuti bersama skipped): verification 3 days "
        "after submission, disposition 2 after VERIFIED, the unit's response 5 "
        "after disposition and 10 after a dispute or a reopening, automatic "
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
        "the reporter's KIM, an officer in scope, a member of the unit it is "
        "disposed to (not for ANONYMOUS) or an admin (never in events)."
    )
    def reporter_name(self) -> str | None:
        return self.row.reporter_name if self.access.personal_data else None

    @strawberry.field(
        description="The reporter's phone or address: personal data, null unless "
        "the viewer is the reporter's KIM, an officer in scope, a member of the unit "
        "it is disposed to (not for ANONYMOUS) or an admin (never in events)."
    )
    def reporter_contact(self) -> str | None:
        return self.row.reporter_contact if self.access.personal_data else None

    @strawberry.field(
        description="Every step, submission first. Internal notes only for officers "
        "in scope and admins."
    )
    async def history(self, info: Info) -> list[AspirationTransition]:
        rows = await self._history_rows(info)
        return [AspirationTransition(row=row, access=self.access) for row in rows]

    async def _history_rows(self, info: Info) -> Sequence[models.AspirationTransition]:
        if self.preloaded is not None:
            return self.preloaded.history
        return await info.context.loaders.aspiration_history_by_id.load(self.row.id)

    @strawberry.field(
        description="The public note of the step that brought the aspiration to "
        "its status: what a NEEDS_INFO asks for, why it was ARCHIVED, REJECTED or "
        "NOT_AUTHORIZED, the response it was RESPONDED with, the reporter's own "
        "words. Null when that step has none. Shown to everyone who sees the "
        "history, ticket followers included."
    )
    async def status_note(self, info: Info) -> str | None:
        rows = await self._history_rows(info)
        return rows[-1].public_note if rows else None

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
