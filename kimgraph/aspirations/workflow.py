"""The aspiration state machine (docs/aspiration-workflow.md): who moves what where."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType

from kimgraph.accounts.authorization import in_scope
from kimgraph.accounts.principals import Principal, Role
from kimgraph.aspirations import workdays
from kimgraph.aspirations.deadline_rules import Deadline, step_deadline
from kimgraph.errors import ForbiddenError, Problem, ProblemCode, UserInputError
from kimgraph.models.aspirations import AspirationStatus

_S = AspirationStatus

_EARLY = (_S.SUBMITTED, _S.NEEDS_INFO, _S.VERIFIED, _S.DISPOSED, _S.IN_PROGRESS)
WITHDRAWABLE_STATES = frozenset(_EARLY)
"""The open states before RESPONDED, from which the reporter may withdraw."""
OPEN_STATES = WITHDRAWABLE_STATES | {_S.RESPONDED}
"""States in which someone still owes the aspiration an action."""
FINAL_STATES = frozenset(_S) - OPEN_STATES
"""Closed states; a verifier can still reopen RESOLVED and REJECTED."""


class Capacity(enum.StrEnum):
    """A part the caller plays for one particular aspiration."""

    VERIFIER = "a verifier"
    UNIT = "the assigned unit"
    # An ADMIN taking a unit's step, with a reason (docs/aspiration-workflow.md).
    ADMIN_FOR_UNIT = "an ADMIN for the unit"
    REPORTER_KIM = "the reporter's KIM"
    # The citizen, by ticket and reporter key, with no account (issue 13).
    REPORTER = "the reporter"
    TIMER = "the timer"


class Guard(enum.Enum):
    """A condition on the request, as (input field, message template)."""

    REASON = ("note", "a reason is required to move from {s} to {t}")
    ADDED_INFORMATION = ("note", "note must carry the information that was asked for")
    # The reporter answers in its own words, which the history shows publicly.
    REPORTER_INFORMATION = (
        "text",
        "text must carry the information that was asked for",
    )
    # What the reporter reads on the ticket: why it stopped, or what is missing.
    PUBLIC_REASON = (
        "publicNote",
        "publicNote must tell the reporter why it moves from {s} to {t}",
    )
    RESPONSIBLE_PARTY = ("publicNote", "publicNote must say who is responsible instead")
    RESPONSE = ("publicNote", "publicNote must carry the response to the reporter")
    ASSIGNED_UNIT = ("assignedUnit", "assignedUnit must name the unit to dispose to")
    ADMIN_REASON = ("note", "an ADMIN acting for the unit must give the reason in note")
    DUPLICATE_OF = ("duplicateOfId", "duplicateOfId must name the earlier aspiration")

    def problem(self, source: AspirationStatus, target: AspirationStatus) -> Problem:
        """The userError this guard reports when it fails."""
        field, template = self.value
        message = template.format(s=source, t=target)
        return Problem(ProblemCode.INVALID, message, ["input", field])


@dataclass(frozen=True, slots=True)
class Transition:
    """One row of the table: who may make it, what it needs, who must wait."""

    source: AspirationStatus
    target: AspirationStatus
    capacities: frozenset[Capacity]
    guards: tuple[Guard, ...] = ()
    # Capacities that may act only once the current deadline has passed.
    waits: frozenset[Capacity] = frozenset()


_V, _U, _K, _T = Capacity.VERIFIER, Capacity.UNIT, Capacity.REPORTER_KIM, Capacity.TIMER
_R = Capacity.REPORTER


def _rows(
    sources: Iterable[AspirationStatus],
    target: AspirationStatus,
    capacities: set[Capacity],
    *guards: Guard,
    waits: frozenset[Capacity] = frozenset(),
) -> list[Transition]:
    return [
        Transition(source, target, frozenset(capacities), guards, waits)
        for source in sources
    ]


_TABLE = [
    *_rows([_S.SUBMITTED], _S.VERIFIED, {_V}),
    *_rows([_S.SUBMITTED], _S.NEEDS_INFO, {_V}, Guard.REASON, Guard.PUBLIC_REASON),
    *_rows([_S.SUBMITTED], _S.ARCHIVED, {_V}, Guard.REASON, Guard.PUBLIC_REASON),
    *_rows([_S.NEEDS_INFO], _S.SUBMITTED, {_K, _V, _R}, Guard.ADDED_INFORMATION),
    # The reporter was promised NEEDS_INFO_DAYS to answer; nobody archives sooner.
    # Its reason is the deadline itself; the timer writes it as the public note.
    *_rows([_S.NEEDS_INFO], _S.ARCHIVED, {_V, _T}, waits=frozenset({_V, _T})),
    *_rows([_S.SUBMITTED, _S.VERIFIED], _S.DUPLICATE, {_V}, Guard.DUPLICATE_OF),
    *_rows(
        [_S.SUBMITTED, _S.VERIFIED], _S.NOT_AUTHORIZED, {_V}, Guard.RESPONSIBLE_PARTY
    ),
    *_rows([_S.VERIFIED], _S.DISPOSED, {_V}, Guard.ASSIGNED_UNIT),
    *_rows([_S.DISPOSED], _S.DISPOSED, {_V, _U}, Guard.ASSIGNED_UNIT),
    *_rows([_S.DISPOSED], _S.VERIFIED, {_U}, Guard.REASON),
    *_rows([_S.DISPOSED], _S.IN_PROGRESS, {_U}),
    *_rows([_S.DISPOSED, _S.IN_PROGRESS], _S.RESPONDED, {_U}, Guard.RESPONSE),
    *_rows([_S.IN_PROGRESS], _S.REJECTED, {_U}, Guard.REASON, Guard.PUBLIC_REASON),
    *_rows([_S.RESPONDED], _S.RESOLVED, {_K, _V, _R, _T}, waits=frozenset({_T})),
    *_rows([_S.RESPONDED], _S.IN_PROGRESS, {_K, _V, _R}),
    *_rows([_S.RESOLVED, _S.REJECTED], _S.IN_PROGRESS, {_V}, Guard.REASON),
    *_rows(_EARLY, _S.WITHDRAWN, {_K, _V, _R}),
]

ALL_TRANSITIONS: Mapping[tuple[AspirationStatus, AspirationStatus], Transition] = (
    MappingProxyType({(row.source, row.target): row for row in _TABLE})
)
"""Every allowed (from, to) pair; any pair not here is an invalid transition."""


def next_states(status: AspirationStatus) -> list[AspirationStatus]:
    """The statuses an aspiration in status may move to, in table order."""
    return [target for source, target in ALL_TRANSITIONS if source is status]


@dataclass(frozen=True, slots=True)
class Actor:
    """The capacities in which a caller acts on one aspiration."""

    capacities: frozenset[Capacity]


TIMER = Actor(frozenset({Capacity.TIMER}))
"""The server's deadline loop."""
REPORTER = Actor(frozenset({Capacity.REPORTER}))
"""The citizen who showed the aspiration's ticket and reporter key."""


def acts_as_unit(principal: Principal, unit_id: int | None) -> bool:
    """Whether principal is an OFFICER member of the unit (None: no unit)."""
    return (
        principal.role is Role.OFFICER
        and unit_id is not None
        and unit_id in principal.unit_ids
    )


def actor_for(
    principal: Principal,
    *,
    region_code: str,
    kim_id: int | None,
    unit_id: int | None = None,
) -> Actor:
    """What principal may act as on an aspiration of this region, KIM and unit.

    unit_id is the unit the aspiration is disposed to. Disposed to a unit, only
    its members are the unit, and they are not its verifiers: the verifier is
    an officer of the region who is not acting as the unit. Without one (before
    disposition, or disposed by free text before units), any officer in scope
    is the unit, as before.
    """
    capacities: set[Capacity] = set()
    scoped = in_scope(principal, region_code)
    member = acts_as_unit(principal, unit_id)
    if principal.role is Role.ADMIN and scoped:
        capacities.add(Capacity.VERIFIER)
        if unit_id is not None:
            capacities.add(Capacity.ADMIN_FOR_UNIT)
    if principal.role is Role.OFFICER and scoped and not member:
        capacities.add(Capacity.VERIFIER)
    if member or (principal.role is Role.OFFICER and scoped and unit_id is None):
        capacities.add(Capacity.UNIT)
    if principal.role is Role.KIM and kim_id is not None and principal.kim_id == kim_id:
        capacities.add(Capacity.REPORTER_KIM)
    return Actor(frozenset(capacities))


@dataclass(frozen=True, slots=True)
class TransitionRequest:
    """What the caller supplied with the transition (the mutation's input)."""

    note: str | None = None
    public_note: str | None = None
    assigned_unit: str | None = None
    duplicate_of_id: int | None = None
    unit_id: int | None = None


@dataclass(frozen=True, slots=True)
class TransitionPlan:
    """An allowed transition: what to record and which deadline to run next."""

    source: AspirationStatus
    target: AspirationStatus
    acting_as: Capacity
    deadline: Deadline | None
    # Starting work on a disposition does not stop the clock on its response.
    keeps_due_at: bool

    def next_due_at(self, now: datetime, due_at: datetime | None) -> datetime | None:
        """The aspiration's dueAt after the transition, given its dueAt before."""
        if self.deadline is not None:
            return self.deadline.due_at(now)
        return due_at if self.keeps_due_at else None


class InvalidTransition(UserInputError):
    """A (from, to) pair the table does not have: userError INVALID_TRANSITION."""

    def __init__(self, source: AspirationStatus, target: AspirationStatus) -> None:
        targets = ", ".join(next_states(source))
        onward = f"from {source} it can go to {targets}" if targets else "it is final"
        message = f"an aspiration cannot go from {source} to {target}; {onward}"
        super().__init__(
            Problem(ProblemCode.INVALID_TRANSITION, message, ["input", "to"])
        )
        self.source, self.target = source, target


class TransitionForbidden(ForbiddenError):
    """An existing transition the caller may not make: top-level FORBIDDEN."""


class GuardFailed(UserInputError):
    """An allowed transition whose request misses what it needs: userErrors INVALID."""


def check_transition(
    current: AspirationStatus,
    target: AspirationStatus,
    actor: Actor,
    request: TransitionRequest,
    *,
    now: datetime | None = None,
    due_at: datetime | None = None,
) -> TransitionPlan:
    """The plan for moving an aspiration from current to target, or why not.

    `now` and `due_at` (the aspiration's current deadline) matter only where the
    actor must wait for the deadline: the timer, and NEEDS_INFO → ARCHIVED.
    """
    transition = ALL_TRANSITIONS.get((current, target))
    if transition is None:
        raise InvalidTransition(current, target)
    permitted = permitted_capacities(transition, actor)
    if not permitted:
        who = _either([c.value for c in Capacity if c in transition.capacities])
        raise TransitionForbidden(
            f"only {who} may move an aspiration from {current} to {target}"
        )
    unhurried = [c for c in permitted if c not in transition.waits]
    acting_as = (unhurried or permitted)[0]
    problems = [
        guard.problem(current, target)
        for guard in _guards(transition, acting_as)
        if not _satisfied(guard, request)
    ]
    if not unhurried and (now is None or due_at is None or now <= due_at):
        problems.append(_too_early(current, target, due_at))
    if problems:
        raise GuardFailed(*problems)
    return TransitionPlan(
        source=current,
        target=target,
        acting_as=acting_as,
        deadline=step_deadline(current, target),
        keeps_due_at=(current, target) == (_S.DISPOSED, _S.IN_PROGRESS),
    )


def permitted_capacities(transition: Transition, actor: Actor) -> list[Capacity]:
    """The actor's capacities that may make the transition, in Capacity order.

    An ADMIN for the unit may take any step the unit may.
    """
    allowed = set(transition.capacities)
    if Capacity.UNIT in allowed:
        allowed.add(Capacity.ADMIN_FOR_UNIT)
    return [c for c in Capacity if c in actor.capacities & allowed]


def _guards(transition: Transition, acting_as: Capacity) -> tuple[Guard, ...]:
    """The transition's guards, and a reason when an ADMIN acts for the unit."""
    if acting_as is Capacity.REPORTER:
        # The reporter's answer is its text, recorded as the step's public note.
        return tuple(
            Guard.REPORTER_INFORMATION if g is Guard.ADDED_INFORMATION else g
            for g in transition.guards
        )
    if acting_as is not Capacity.ADMIN_FOR_UNIT:
        return transition.guards
    # A step that already needs a note takes that note as the ADMIN's reason.
    if any(g.value[0] == "note" for g in transition.guards):
        return transition.guards
    return (*transition.guards, Guard.ADMIN_REASON)


def _either(words: list[str]) -> str:
    return " or ".join([", ".join(words[:-1]), words[-1]] if len(words) > 1 else words)


def _satisfied(guard: Guard, request: TransitionRequest) -> bool:
    if guard is Guard.DUPLICATE_OF:
        return request.duplicate_of_id is not None
    if guard is Guard.ASSIGNED_UNIT and request.unit_id is not None:
        return True
    text = {
        Guard.REASON: request.note,
        Guard.ADMIN_REASON: request.note,
        Guard.ADDED_INFORMATION: request.note,
        Guard.REPORTER_INFORMATION: request.public_note,
        Guard.PUBLIC_REASON: request.public_note,
        Guard.RESPONSIBLE_PARTY: request.public_note,
        Guard.RESPONSE: request.public_note,
        Guard.ASSIGNED_UNIT: request.assigned_unit,
    }[guard]
    # Whitespace is no reason, no response and no unit.
    return text is not None and text.strip() != ""


def _too_early(
    source: AspirationStatus, target: AspirationStatus, due_at: datetime | None
) -> Problem:
    local = None if due_at is None else due_at.astimezone(workdays.ZONE)
    due = "" if local is None else f" ({local:%Y-%m-%d %H:%M} WIB)"
    message = f"an aspiration can go from {source} to {target} only after its deadline"
    return Problem(ProblemCode.INVALID, f"{message}{due} has passed", ["input", "to"])
