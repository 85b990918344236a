"""Timers: the deadlines that move an aspiration by themselves, each fired once."""

from __future__ import annotations

from datetime import datetime

from kimgraph import models
from kimgraph.aspirations import workdays
from kimgraph.aspirations.records import (
    PAST,
    TIMER_ARCHIVE,
    TIMER_OVERDUE,
    TIMER_RESOLVE,
    Author,
    EventKind,
    StepText,
    apply_step,
    log_event,
)
from kimgraph.aspirations.workflow import (
    OPEN_STATES,
    TIMER,
    TransitionRequest,
    check_transition,
)
from kimgraph.errors import ApiError, UserInputError
from kimgraph.events import log
from kimgraph.models.aspirations import AspirationStatus
from kimgraph.timers import Handler

TIMER_ACTOR = Author("KIMgraph (tenggat waktu)")
"""The name history shows for a step the server made when a deadline passed."""
# Public notes are read by citizens, so they are in Bahasa Indonesia.
ARCHIVE_NOTE = (
    "Diarsipkan otomatis: informasi yang diminta tidak diterima dalam "
    f"{workdays.NEEDS_INFO_DAYS} hari kerja."
)
RESOLVE_NOTE = (
    "Diselesaikan otomatis: tidak ada sanggahan dalam "
    f"{workdays.AUTO_RESOLVE_DAYS} hari kerja setelah tanggapan."
)


async def _fire(
    tx: log.Transaction,
    entity_id: int,
    due: datetime,
    target: AspirationStatus,
    public_note: str,
) -> None:
    row = await models.Aspiration.get_or_none(id=entity_id, using_db=tx.conn)
    if row is None:
        return
    try:
        plan = check_transition(
            row.status,
            target,
            TIMER,
            TransitionRequest(public_note=public_note),
            now=due,
            due_at=row.due_at,
        )
    except (UserInputError, ApiError):
        # Moved on (or re-timed) since the timer was set: nothing is due.
        return
    await apply_step(
        tx,
        row,
        plan,
        StepText(public_note=public_note),
        expected_version=row.version,
        actor=TIMER_ACTOR,
        at=due,
    )


async def fire_archive(tx: log.Transaction, entity_id: int, due: datetime) -> None:
    """Timer: a reporter asked for information did not answer in time."""
    await _fire(tx, entity_id, due, AspirationStatus.ARCHIVED, ARCHIVE_NOTE)


async def fire_resolve(tx: log.Transaction, entity_id: int, due: datetime) -> None:
    """Timer: nobody disputed a response in time."""
    await _fire(tx, entity_id, due, AspirationStatus.RESOLVED, RESOLVE_NOTE)


async def fire_overdue(tx: log.Transaction, entity_id: int, due: datetime) -> None:
    """Timer: a deadline passed with the aspiration still in its state; no step."""
    row = await models.Aspiration.get_or_none(id=entity_id, using_db=tx.conn)
    # Every step that starts another deadline cancels this row; the check
    # holds even so, should a step and the claim cross.
    if row is None or row.status not in OPEN_STATES or row.due_at is None:
        return
    if row.due_at + PAST != due:
        return
    await log_event(tx, row, EventKind.OVERDUE, due)


TIMER_HANDLERS: dict[str, Handler] = {
    TIMER_ARCHIVE: fire_archive,
    TIMER_RESOLVE: fire_resolve,
    TIMER_OVERDUE: fire_overdue,
}
