"""Which working-day deadline starts with which step (docs/aspiration-workflow.md).

The table of deadlines; the state machine (workflow) says who may take a step,
this says what clock it starts.
"""

from __future__ import annotations

import enum
from datetime import datetime

from kimgraph.aspirations import workdays
from kimgraph.models.aspirations import AspirationStatus

_S = AspirationStatus


class Deadline(enum.StrEnum):
    """A working-day deadline that starts when an aspiration enters a state."""

    VERIFY = "VERIFY"
    ARCHIVE = "ARCHIVE"
    DISPOSE = "DISPOSE"
    RESPOND = "RESPOND"
    RESPOND_AGAIN = "RESPOND_AGAIN"
    AUTO_RESOLVE = "AUTO_RESOLVE"

    @property
    def working_days(self) -> int:
        """How many working days it runs."""
        return _DEADLINE_DAYS[self]

    @property
    def fires(self) -> AspirationStatus | None:
        """The status the timer moves the aspiration to; None: it only turns late."""
        return _DEADLINE_FIRES.get(self)

    @property
    def turns_overdue(self) -> bool:
        """Whether passing it makes the aspiration overdue (an OVERDUE event).

        A deadline that fires a transition is kept by the timer's own step.
        """
        return self.fires is None

    def due_at(self, start: datetime) -> datetime:
        """When it passes if it starts at start."""
        return workdays.add_working_days(start, self.working_days)


_DEADLINE_DAYS = {
    Deadline.VERIFY: workdays.VERIFY_DAYS,
    Deadline.ARCHIVE: workdays.NEEDS_INFO_DAYS,
    Deadline.DISPOSE: workdays.DISPOSE_DAYS,
    Deadline.RESPOND: workdays.RESPOND_DAYS,
    Deadline.RESPOND_AGAIN: workdays.RESPOND_AGAIN_DAYS,
    Deadline.AUTO_RESOLVE: workdays.AUTO_RESOLVE_DAYS,
}
_DEADLINE_FIRES = {Deadline.ARCHIVE: _S.ARCHIVED, Deadline.AUTO_RESOLVE: _S.RESOLVED}
_DEADLINE_ON_ENTRY = {
    _S.SUBMITTED: Deadline.VERIFY,
    _S.NEEDS_INFO: Deadline.ARCHIVE,
    _S.VERIFIED: Deadline.DISPOSE,
    _S.DISPOSED: Deadline.RESPOND,
    _S.RESPONDED: Deadline.AUTO_RESOLVE,
}
# IN_PROGRESS has no deadline of its own: from DISPOSED the response's keeps
# running; after a dispute or a reopening the unit answers again.
_DEADLINE_ON_STEP = {
    (_S.RESPONDED, _S.IN_PROGRESS): Deadline.RESPOND_AGAIN,
    (_S.RESOLVED, _S.IN_PROGRESS): Deadline.RESPOND_AGAIN,
    (_S.REJECTED, _S.IN_PROGRESS): Deadline.RESPOND_AGAIN,
}


def entry_deadline(status: AspirationStatus) -> Deadline | None:
    """The deadline that starts when an aspiration enters status, on submission too."""
    return _DEADLINE_ON_ENTRY.get(status)


def step_deadline(
    source: AspirationStatus, target: AspirationStatus
) -> Deadline | None:
    """The deadline that starts with the step from source to target."""
    return _DEADLINE_ON_STEP.get((source, target)) or entry_deadline(target)
