"""Handling an aspiration: workflow transitions, responses and moderation."""

from __future__ import annotations

from dataclasses import dataclass, replace

from kimgraph import audit, models
from kimgraph.accounts.authorization import Action, enforce
from kimgraph.accounts.principals import Principal
from kimgraph.aspirations.access import access_for
from kimgraph.aspirations.records import (
    Author,
    EventKind,
    Outcome,
    StepText,
    apply_step,
    conflict,
    log_event,
)
from kimgraph.aspirations.text import checked_text
from kimgraph.aspirations.workflow import (
    Capacity,
    GuardFailed,
    TransitionRequest,
    actor_for,
    check_transition,
)
from kimgraph.clock import Clock
from kimgraph.errors import (
    ForbiddenError,
    Problem,
    ProblemCode,
    UserInputError,
    invalid,
)
from kimgraph.events import log
from kimgraph.events.bus import Doorbell
from kimgraph.models.aspirations import AspirationStatus
from kimgraph.units.management import disposition

MAX_NOTE = 2_000
MAX_UNIT = 200
MAX_MESSAGE = 5_000
MAX_REASON = 500


@dataclass(frozen=True, slots=True)
class Step:
    """The input of aspirationTransition."""

    target: AspirationStatus
    expected_version: int
    note: str | None = None
    public_note: str | None = None
    assigned_unit: str | None = None
    duplicate_of_id: int | None = None
    # The unit to dispose to; 0 stands for an id given but not one of a unit.
    unit_id: int | None = None


async def reachable(
    principal: Principal, aspiration_id: int | None
) -> models.Aspiration:
    """The aspiration, if principal may read it; NOT_FOUND if not.

    One answer for both: `aspiration(id:)` shows neither, and a mutation must
    not tell an aspiration out of reach (and its region) from a missing one.
    """
    row = (
        await models.Aspiration.get_or_none(id=aspiration_id)
        if aspiration_id is not None
        else None
    )
    return readable(principal, row, "id")


def readable(
    principal: Principal, row: models.Aspiration | None, *field: str
) -> models.Aspiration:
    """row, if principal may read it; NOT_FOUND on field if it is None or not."""
    if row is None or access_for(principal, row) is None:
        raise UserInputError(
            Problem(ProblemCode.NOT_FOUND, "there is no such aspiration", list(field))
        )
    return row


def require_verifier(principal: Principal, row: models.Aspiration, doing: str) -> None:
    """FORBIDDEN unless principal is a verifier of row (not merely its unit)."""
    actor = actor_for(
        principal, region_code=row.region_id, kim_id=row.kim_id, unit_id=row.unit_id
    )
    if Capacity.VERIFIER not in actor.capacities:
        raise ForbiddenError(f"only a verifier may {doing}")


async def _check_duplicate(
    principal: Principal,
    row: models.Aspiration,
    original_id: int,
    problems: list[Problem],
) -> None:
    field = ["input", "duplicateOfId"]
    original = await models.Aspiration.get_or_none(id=original_id)
    if original is None or access_for(principal, original) is None:
        problems.append(
            Problem(ProblemCode.NOT_FOUND, "there is no such aspiration", field)
        )
    elif original.id >= row.id:
        problems.append(
            Problem(ProblemCode.INVALID, "must name an earlier aspiration", field)
        )


async def transition(
    clock: Clock,
    doorbell: Doorbell,
    principal: Principal,
    aspiration_id: int | None,
    step: Step,
) -> Outcome:
    """Move an aspiration one step through the table of docs/aspiration-workflow.md."""
    enforce(principal, Action.ASPIRATION_HANDLE)
    row = await reachable(principal, aspiration_id)
    if row.version != step.expected_version:
        raise conflict(row.version, step.expected_version)
    problems: list[Problem] = []
    free_text = checked_text(step.assigned_unit, MAX_UNIT, "assignedUnit", problems)
    text = StepText(
        note=checked_text(step.note, MAX_NOTE, "note", problems),
        public_note=checked_text(step.public_note, MAX_NOTE, "publicNote", problems),
        assigned_unit=free_text,
        duplicate_of_id=step.duplicate_of_id,
        unit_id=step.unit_id,
    )
    now = clock.now()
    actor = actor_for(
        principal, region_code=row.region_id, kim_id=row.kim_id, unit_id=row.unit_id
    )
    problems += _misplaced(step.target, text)
    try:
        plan = check_transition(
            row.status,
            step.target,
            actor,
            TransitionRequest(
                note=text.note,
                public_note=text.public_note,
                assigned_unit=text.assigned_unit,
                duplicate_of_id=text.duplicate_of_id,
                unit_id=text.unit_id,
            ),
            now=now,
            due_at=row.due_at,
        )
    except GuardFailed as failed:
        raise UserInputError(*failed.problems, *problems) from None
    if plan.target is AspirationStatus.DISPOSED and not problems:
        sent = await disposition(row.region_id, text.unit_id, free_text, problems)
        text = replace(text, unit_id=sent.unit_id, assigned_unit=sent.name)
    if plan.target is AspirationStatus.DUPLICATE and text.duplicate_of_id is not None:
        await _check_duplicate(principal, row, text.duplicate_of_id, problems)
    if problems:
        raise UserInputError(*problems)
    async with log.transaction(doorbell) as tx:
        event_id = await apply_step(
            tx,
            row,
            plan,
            text,
            expected_version=step.expected_version,
            actor=Author(principal.display_name, principal.account_id),
            at=now,
        )
        if event_id is None:
            current = await models.Aspiration.get(id=row.id, using_db=tx.conn)
            raise conflict(current.version, step.expected_version)
    return Outcome(row, event_id)


def _misplaced(target: AspirationStatus, text: StepText) -> list[Problem]:
    """Inputs that belong to another kind of step: refused, not silently dropped."""
    problems = [
        Problem(
            ProblemCode.INVALID,
            f"{field} applies only when moving to DISPOSED",
            ["input", field],
        )
        for field, value in (
            ("assignedUnit", text.assigned_unit),
            ("unitId", text.unit_id),
        )
        if value is not None and target is not AspirationStatus.DISPOSED
    ]
    if text.duplicate_of_id is not None and target is not AspirationStatus.DUPLICATE:
        problems.append(
            Problem(
                ProblemCode.INVALID,
                "duplicateOfId applies only when moving to DUPLICATE",
                ["input", "duplicateOfId"],
            )
        )
    return problems


async def respond(
    clock: Clock,
    doorbell: Doorbell,
    principal: Principal,
    aspiration_id: int | None,
    message: str,
    *,
    public: bool = True,
) -> Outcome:
    """Add a response: public (the reporter and the public read it) or internal."""
    enforce(principal, Action.ASPIRATION_RESPOND)
    row = await reachable(principal, aspiration_id)
    actor = actor_for(
        principal, region_code=row.region_id, kim_id=row.kim_id, unit_id=row.unit_id
    )
    if not actor.capacities & {Capacity.VERIFIER, Capacity.UNIT}:
        raise ForbiddenError("only a verifier or the assigned unit may respond")
    problems: list[Problem] = []
    text = checked_text(message, MAX_MESSAGE, "message", problems, required=True)
    if problems:
        raise UserInputError(*problems)
    assert text is not None
    now = clock.now()
    async with log.transaction(doorbell) as tx:
        await (
            models.Aspiration.filter(id=row.id).using_db(tx.conn).update(updated_at=now)
        )
        await row.refresh_from_db(using_db=tx.conn)
        event_id = await log_event(tx, row, EventKind.RESPONDED, now)
        response = await models.AspirationResponse.create(
            aspiration_id=row.id,
            event_id=event_id,
            message=text,
            public=public,
            author_id=principal.account_id,
            author_name=principal.display_name,
            at=now,
            using_db=tx.conn,
        )
    return Outcome(row, event_id, response)


async def moderate(
    clock: Clock,
    doorbell: Doorbell,
    principal: Principal,
    aspiration_id: int | None,
    *,
    hidden: bool,
    reason: str | None = None,
) -> Outcome:
    """Hide an aspiration's content from public views, or show it again."""
    enforce(principal, Action.ASPIRATION_MODERATE)
    row = await reachable(principal, aspiration_id)
    # Moderation is the region's (docs/aspiration-workflow.md): a unit that
    # reaches an aspiration only as its unit does not hide it.
    require_verifier(principal, row, "moderate an aspiration")
    problems: list[Problem] = []
    why = checked_text(reason, MAX_REASON, "reason", problems)
    if hidden and why is None:
        problems.append(
            Problem(
                ProblemCode.INVALID,
                "a reason is required to hide an aspiration",
                ["input", "reason"],
            )
        )
    if problems:
        raise UserInputError(*problems)
    if row.hidden == hidden:
        raise invalid(
            f"the aspiration is already {'hidden' if hidden else 'shown'}",
            "input",
            "hidden",
        )
    now = clock.now()
    async with log.transaction(doorbell) as tx:
        changed = await (
            models.Aspiration.filter(id=row.id, hidden=not hidden)
            .using_db(tx.conn)
            .update(
                hidden=hidden, hidden_reason=why if hidden else None, updated_at=now
            )
        )
        if not changed:
            raise invalid("the aspiration was moderated meanwhile; reload it", "id")
        await row.refresh_from_db(using_db=tx.conn)
        event_id = await log_event(tx, row, EventKind.MODERATED, now)
        # The reason stays out: it may quote the hidden text (docs/audit.md).
        await audit.record(
            tx.conn,
            principal,
            audit.AuditAction.ASPIRATION_MODERATE,
            audit.target("Aspiration", row.id),
            {"hidden": [not hidden, hidden]},
            at=now,
        )
    return Outcome(row, event_id)
