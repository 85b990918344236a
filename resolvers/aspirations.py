"""Aspirations: scoped lists, tracking by ticket, the workflow, the live stream."""

from __future__ import annotations

from typing import Annotated

import strawberry

from kimgraph import aspirations, models
from kimgraph.accounts.principals import Principal
from kimgraph.aspirations import access_for, public_access
from kimgraph.aspirations.queries import (
    AspirationFilter,
    aspiration_by_ticket,
    aspiration_page,
    scoped_region,
)
from kimgraph.aspirations.reporter import (
    KeyReissue,
    ReporterKeyThrottle,
    ReporterStep,
    reissue_key,
    reporter_step,
)
from kimgraph.aspirations.submission import submission_limiter
from kimgraph.context import Info
from kimgraph.cursors import CursorKind, decode_cursor, decode_id, key_id, row_id
from kimgraph.events import log
from kimgraph.rate_limit import RateLimiter
from kimgraph.regions.queries import require_region
from resolvers.commands import run_command
from schema.aspirations import (
    Aspiration,
    AspirationConnection,
    AspirationModerateInput,
    AspirationModeratePayload,
    AspirationReporterKeyReissueInput,
    AspirationReporterKeyReissuePayload,
    AspirationReporterStepInput,
    AspirationReporterStepPayload,
    AspirationRespondInput,
    AspirationRespondPayload,
    AspirationResponse,
    AspirationStatus,
    AspirationSubmitInput,
    AspirationSubmitPayload,
    AspirationTransitionInput,
    AspirationTransitionPayload,
)
from schema.common import (
    DEFAULT_PAGE_SIZE,
    After,
    First,
    mutation,
    page_size,
)

AspirationId = Annotated[
    strawberry.ID, strawberry.argument(description="The aspiration's id.")
]


def _view(principal: Principal, row: models.Aspiration) -> Aspiration:
    """The aspiration as principal may see it; the public view if out of reach."""
    return Aspiration.from_model(row, access_for(principal, row) or public_access(row))


async def aspiration_node(info: Info, type_name: str, key: str) -> Aspiration | None:
    """`node(id:)` for an Aspiration key: the same as `aspiration(id:)`."""
    aspiration_id = key_id(key)
    row = (
        await info.context.loaders.aspirations_by_id.load(aspiration_id)
        if aspiration_id is not None
        else None
    )
    access = access_for(info.context.principal, row) if row is not None else None
    if row is None or access is None:
        return None
    return Aspiration.from_model(row, access)


@strawberry.type
class AspirationQueries:
    @strawberry.field(
        description="The aspiration with this id if the viewer may read it (an "
        "officer or admin whose scope holds it, a member of the unit it is disposed "
        "to, a KIM or partner app of its region, the reporter's KIM); null otherwise."
    )
    async def aspiration(self, info: Info, id: AspirationId) -> Aspiration | None:
        key = decode_id("Aspiration", id)
        return await aspiration_node(info, "Aspiration", str(key)) if key else None

    @strawberry.field(
        description="Aspirations in a region and below, newest first; signed-in "
        "callers only, within their scope (their whole scope without `region`). A "
        "region outside it is FORBIDDEN, an unknown one NOT_FOUND. `overdue: true` "
        "is a desk's list of late work."
    )
    async def aspirations(
        self,
        info: Info,
        region: Annotated[
            str | None,
            strawberry.argument(description="A region's code; null: your scope."),
        ] = None,
        status: Annotated[
            list[AspirationStatus] | None,
            strawberry.argument(description="Only these statuses; null: all."),
        ] = None,
        kim_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="Only those collected by this KIM."),
        ] = None,
        overdue: Annotated[
            bool | None,
            strawberry.argument(
                description="true: only overdue ones (open, `dueAt` passed); "
                "false: only the others; null: all."
            ),
        ] = None,
        first: First = DEFAULT_PAGE_SIZE,
        after: After = None,
    ) -> AspirationConnection:
        principal = info.context.principal
        code = scoped_region(principal, region)
        await require_region(code)
        where = AspirationFilter(
            region=code,
            statuses=tuple(s.domain for s in status or ()),
            kim_id=(decode_id("Kim", kim_id) or 0) if kim_id is not None else None,
            overdue=overdue,
            now=info.context.clock.now(),
        )
        position = await log.position()
        rows, has_next, total = await aspiration_page(
            where,
            decode_cursor(CursorKind.ASPIRATION, after, row_id),
            page_size(first),
        )
        nodes = [_view(principal, row) for row in rows]
        return AspirationConnection.of(nodes, has_next, total, position)

    @strawberry.field(
        description="Follow an aspiration by its ticket: anyone may. Shows status, "
        "history with public notes, public responses and dueAt; never the reporter's "
        "personal data or internal notes, and nothing of the content of a "
        "CONFIDENTIAL or hidden one. Null for an unknown ticket."
    )
    async def aspiration_track(
        self,
        ticket: Annotated[
            str, strawberry.argument(description="The ticket, e.g. ASP-6104-2026-…")
        ],
    ) -> Aspiration | None:
        row = await aspiration_by_ticket(ticket)
        return Aspiration.from_model(row, public_access(row)) if row else None


def _submission_limiter(info: Info) -> RateLimiter | None:
    """The app's limiter of anonymous submissions."""
    return info.context.app_object(
        "aspiration_submissions",
        lambda: submission_limiter(info.context.clock),
    )


def _reporter_key_throttle(info: Info) -> ReporterKeyThrottle | None:
    """The app's limiter of reporter-key attempts."""
    return info.context.app_object(
        "reporter_key_throttle",
        lambda: ReporterKeyThrottle(info.context.clock),
    )


@strawberry.type
class AspirationMutations:
    @mutation(
        "Submit an aspiration: anyone may (anonymous callers are rate-limited per "
        "client: RATE_LIMITED); a KIM account submits on a resident's behalf and "
        "becomes the reporter's KIM. Keep the returned ticket to follow it."
    )
    async def aspiration_submit(
        self,
        info: Info,
        input: Annotated[
            AspirationSubmitInput, strawberry.argument(description="The aspiration.")
        ],
    ) -> AspirationSubmitPayload:
        outcome = await run_command(
            info,
            aspirations.submit,
            aspirations.Submission(
                region=input.region,
                title=input.title,
                description=input.description,
                category=input.category.domain,
                reporter_name=input.reporter_name,
                reporter_contact=input.reporter_contact,
                visibility=input.visibility.domain,
                kim_id=(decode_id("Kim", input.kim_id) or 0) if input.kim_id else None,
            ),
            limiter=_submission_limiter(info),
            client_key=info.context.client_address,
        )
        row = outcome.aspiration
        return AspirationSubmitPayload(
            aspiration=_view(info.context.principal, row),
            ticket=row.ticket,
            reporter_key=outcome.reporter_key,
        )

    @mutation(
        "The reporter's own steps, with no account: the ticket and the reporter "
        "key that aspirationSubmit returned. ANSWER a request for information, "
        "CONFIRM or DISPUTE a response, WITHDRAW. A wrong key and an unknown ticket "
        "get the same INVALID_CREDENTIALS; attempts are rate-limited per ticket and "
        "per client (RATE_LIMITED), wrong keys only. The aspiration comes back as "
        "aspirationTrack shows it."
    )
    async def aspiration_reporter_step(
        self,
        info: Info,
        input: Annotated[
            AspirationReporterStepInput, strawberry.argument(description="The step.")
        ],
    ) -> AspirationReporterStepPayload:
        outcome = await run_command(
            info,
            reporter_step,
            ReporterStep(
                ticket=input.ticket,
                key=input.key,
                action=input.action.domain,
                text=input.text,
                expected_version=input.expected_version,
            ),
            throttle=_reporter_key_throttle(info),
            client=info.context.client_address,
        )
        row = outcome.aspiration
        return AspirationReporterStepPayload(
            aspiration=Aspiration.from_model(row, public_access(row))
        )

    @mutation(
        "Issue a new reporter key for an aspiration, in place of a lost one or of "
        'none (docs/aspiration-workflow.md, "A lost key"): ADMIN and OFFICER '
        "callers who verify it (its region in their scope, not its unit's "
        "members), while it is open. The old key stops working; the key is "
        "returned once and the audit trail keeps the reason. Nothing else changes: "
        "not the status, not the version."
    )
    async def aspiration_reporter_key_reissue(
        self,
        info: Info,
        input: Annotated[
            AspirationReporterKeyReissueInput,
            strawberry.argument(description="The aspiration and the reason."),
        ],
    ) -> AspirationReporterKeyReissuePayload:
        # Logs no event (nothing a subscriber sees changes), so no doorbell.
        outcome = await reissue_key(
            info.context.clock,
            info.context.principal,
            KeyReissue(
                reason=input.reason,
                aspiration_id=(
                    (decode_id("Aspiration", input.id) or 0)
                    if input.id is not None
                    else None
                ),
                ticket=input.ticket,
            ),
        )
        return AspirationReporterKeyReissuePayload(
            aspiration=_view(info.context.principal, outcome.aspiration),
            reporter_key=outcome.reporter_key,
        )

    @mutation(
        "Move an aspiration through its workflow (the table in "
        "docs/aspiration-workflow.md of who may make which step). A step the table "
        "does not have is INVALID_TRANSITION, a stale expectedVersion CONFLICT; "
        "nothing changes then."
    )
    async def aspiration_transition(
        self,
        info: Info,
        id: AspirationId,
        input: Annotated[
            AspirationTransitionInput, strawberry.argument(description="The step.")
        ],
    ) -> AspirationTransitionPayload:
        duplicate_of = input.duplicate_of_id
        outcome = await run_command(
            info,
            aspirations.transition,
            decode_id("Aspiration", id),
            aspirations.Step(
                target=input.to.domain,
                expected_version=input.expected_version,
                note=input.note,
                public_note=input.public_note,
                assigned_unit=input.assigned_unit,
                duplicate_of_id=(
                    (decode_id("Aspiration", duplicate_of) or 0)
                    if duplicate_of is not None
                    else None
                ),
                unit_id=(
                    (decode_id("Unit", input.unit_id) or 0)
                    if input.unit_id is not None
                    else None
                ),
            ),
        )
        return AspirationTransitionPayload(
            aspiration=_view(info.context.principal, outcome.aspiration)
        )

    @mutation(
        "Respond to an aspiration (officers in scope and admins): publicly, for the "
        "reporter and the public, or internally. The status does not change."
    )
    async def aspiration_respond(
        self,
        info: Info,
        id: AspirationId,
        input: Annotated[
            AspirationRespondInput, strawberry.argument(description="The response.")
        ],
    ) -> AspirationRespondPayload:
        outcome = await run_command(
            info,
            aspirations.respond,
            decode_id("Aspiration", id),
            input.message,
            public=input.public,
        )
        assert outcome.response is not None, "respond always writes a response"
        return AspirationRespondPayload(
            aspiration=_view(info.context.principal, outcome.aspiration),
            response=AspirationResponse(row=outcome.response),
        )

    @mutation(
        "Hide an aspiration's content from public and partner views, or show it "
        "again (officers in scope and admins). The status does not change."
    )
    async def aspiration_moderate(
        self,
        info: Info,
        id: AspirationId,
        input: Annotated[
            AspirationModerateInput, strawberry.argument(description="Hide or show.")
        ],
    ) -> AspirationModeratePayload:
        outcome = await run_command(
            info,
            aspirations.moderate,
            decode_id("Aspiration", id),
            hidden=input.hidden,
            reason=input.reason,
        )
        return AspirationModeratePayload(
            aspiration=_view(info.context.principal, outcome.aspiration)
        )
