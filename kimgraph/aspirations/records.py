"""Writing a step: the conditional update, its history row, its event, its timer."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from tortoise.backends.base.client import BaseDBAsyncClient

from kimgraph import models, timers
from kimgraph.aspirations.deadline_rules import Deadline
from kimgraph.aspirations.workflow import Capacity, TransitionPlan
from kimgraph.errors import Problem, ProblemCode, UserInputError
from kimgraph.events import log
from kimgraph.models.aspirations import AspirationStatus

STREAM = "aspiration"
TIMER_ARCHIVE = "aspiration.archive"
TIMER_RESOLVE = "aspiration.resolve"
TIMER_OVERDUE = "aspiration.overdue"
TIMER_KINDS = {Deadline.ARCHIVE: TIMER_ARCHIVE, Deadline.AUTO_RESOLVE: TIMER_RESOLVE}
# A deadline has passed once the time is after it (workdays.add_working_days).
PAST = timedelta(microseconds=1)


class EventKind(enum.StrEnum):
    """What happened to an aspiration."""

    SUBMITTED = "SUBMITTED"
    TRANSITIONED = "TRANSITIONED"
    RESPONDED = "RESPONDED"
    MODERATED = "MODERATED"
    # A deadline that only turns the aspiration late passed; nothing else changed.
    OVERDUE = "OVERDUE"


@dataclass(slots=True)
class Outcome:
    """The aspiration after a change, and the event it logged."""

    aspiration: models.Aspiration
    event_id: int | None = None
    response: models.AspirationResponse | None = field(default=None)
    # On submission only: the reporter key in clear, shown this once.
    reporter_key: str | None = None


@dataclass(frozen=True, slots=True)
class Author:
    """Who made a step, as its history row names them."""

    name: str
    account_id: int | None = None


@dataclass(frozen=True, slots=True)
class StepText:
    """What a step records besides from and to."""

    note: str | None = None
    public_note: str | None = None
    assigned_unit: str | None = None
    duplicate_of_id: int | None = None
    # The unit disposed to; assigned_unit is then its name.
    unit_id: int | None = None


def conflict(current: int, expected: int) -> UserInputError:
    """The CONFLICT a stale expectedVersion gets."""
    return UserInputError(
        Problem(
            ProblemCode.CONFLICT,
            f"the aspiration is at version {current}, not {expected}: reload it "
            "and try again",
            ["input", "expectedVersion"],
        )
    )


async def log_event(
    tx: log.Transaction, row: models.Aspiration, kind: EventKind, at: datetime
) -> int:
    """Append an event about row; it carries ids and the region, nothing personal."""
    record = await log.append(
        tx,
        stream=STREAM,
        kind=kind,
        entity_id=row.id,
        regions=[row.region_id],
        occurred_at=at,
    )
    return record.id


async def apply_step(
    tx: log.Transaction,
    row: models.Aspiration,
    plan: TransitionPlan,
    text: StepText,
    *,
    expected_version: int,
    actor: Author,
    at: datetime,
) -> int | None:
    """Make an allowed step if row is still at expected_version; its event id.

    None means somebody else moved the aspiration first: nothing was written.
    """
    values: dict[str, object] = {
        "status": plan.target,
        "version": expected_version + 1,
        "updated_at": at,
        "due_at": plan.next_due_at(at, row.due_at),
    }
    # The unit the step acts for, as the history row records it.
    acted_for = (
        row.unit_id
        if plan.acting_as in (Capacity.UNIT, Capacity.ADMIN_FOR_UNIT)
        else None
    )
    if plan.target is AspirationStatus.DISPOSED:
        values["assigned_unit"] = text.assigned_unit
        values["unit_id"] = text.unit_id
    elif plan.target is AspirationStatus.VERIFIED:
        values["assigned_unit"] = None
        values["unit_id"] = None
    if plan.target is AspirationStatus.DUPLICATE:
        values["duplicate_of_id"] = text.duplicate_of_id
    # The conditional update is the lock: of two steps from one version, one wins.
    changed = (
        await models.Aspiration.filter(id=row.id, version=expected_version)
        .using_db(tx.conn)
        .update(**values)
    )
    if not changed:
        return None
    await row.refresh_from_db(using_db=tx.conn)
    if not plan.keeps_due_at:
        # Left after its deadline, before the loop saw it: still late, once.
        await overdue_by_now(tx, row, at)
    event_id = await log_event(tx, row, EventKind.TRANSITIONED, at)
    await models.AspirationTransition.create(
        aspiration_id=row.id,
        event_id=event_id,
        from_status=plan.source,
        to_status=plan.target,
        capacity=plan.acting_as.name,
        actor_id=actor.account_id,
        actor_name=actor.name,
        note=text.note,
        public_note=text.public_note,
        assigned_unit=values.get("assigned_unit"),
        unit_id=(
            text.unit_id if plan.target is AspirationStatus.DISPOSED else acted_for
        ),
        at=at,
        using_db=tx.conn,
    )
    if not plan.keeps_due_at:
        await schedule_deadline(tx.conn, row, plan.deadline)
    return event_id


async def overdue_by_now(
    tx: log.Transaction, row: models.Aspiration, at: datetime
) -> None:
    """Log the OVERDUE of row's deadline if it passed by at and nobody logged it yet.

    The claim is the timer loop's (a conditional update of `fired_at`), so the
    loop and this step never both log it.
    """
    due = await (
        models.Timer.filter(
            kind=TIMER_OVERDUE, entity_id=row.id, fired_at=None, due_at__lte=at
        )
        .using_db(tx.conn)
        .first()
    )
    if due is None:
        return
    claimed = (
        await models.Timer.filter(id=due.id, fired_at=None)
        .using_db(tx.conn)
        .update(fired_at=at)
    )
    if claimed:
        await log_event(tx, row, EventKind.OVERDUE, due.due_at)


async def schedule_deadline(
    conn: BaseDBAsyncClient, row: models.Aspiration, deadline: Deadline | None
) -> None:
    """Cancel the timers of the step before; start the one of this step, if any.

    A step that keeps its deadline (DISPOSED → IN_PROGRESS) does not come here:
    its OVERDUE, pending or already logged, stays the deadline's only one.
    """
    for kind in (*TIMER_KINDS.values(), TIMER_OVERDUE):
        await timers.cancel(conn, kind, row.id)
    if deadline is None or row.due_at is None:
        return
    kind = TIMER_OVERDUE if deadline.turns_overdue else TIMER_KINDS[deadline]
    await timers.schedule(conn, kind, row.id, row.due_at + PAST)
