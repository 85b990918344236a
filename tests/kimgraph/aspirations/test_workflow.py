"""The aspiration state machine: the table, who may move what, guards, deadlines."""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import product

import pytest

from kimgraph.accounts.principals import ANONYMOUS, Principal, Role
from kimgraph.aspirations.deadline_rules import Deadline, entry_deadline
from kimgraph.aspirations.workdays import ZONE
from kimgraph.aspirations.workflow import (
    ALL_TRANSITIONS,
    FINAL_STATES,
    OPEN_STATES,
    TIMER,
    WITHDRAWABLE_STATES,
    Actor,
    Capacity,
    Guard,
    GuardFailed,
    InvalidTransition,
    Transition,
    TransitionForbidden,
    TransitionPlan,
    TransitionRequest,
    actor_for,
    check_transition,
    next_states,
)
from kimgraph.errors import Problem, ProblemCode, UserInputError
from kimgraph.models.aspirations import AspirationStatus

S = AspirationStatus
V, U, K, T = Capacity.VERIFIER, Capacity.UNIT, Capacity.REPORTER_KIM, Capacity.TIMER
A, P = Capacity.ADMIN_FOR_UNIT, Capacity.REPORTER
R = Guard

# (from, to) -> (capacities, guards, who may make it as the FORBIDDEN message says)
DESIGN_TABLE: dict[
    tuple[AspirationStatus, AspirationStatus], tuple[set[Capacity], list[Guard], str]
] = {
    (S.SUBMITTED, S.VERIFIED): ({V}, [], "a verifier"),
    (S.SUBMITTED, S.NEEDS_INFO): ({V}, [R.REASON, R.PUBLIC_REASON], "a verifier"),
    (S.SUBMITTED, S.ARCHIVED): ({V}, [R.REASON, R.PUBLIC_REASON], "a verifier"),
    (S.NEEDS_INFO, S.SUBMITTED): (
        {K, V, P},
        [R.ADDED_INFORMATION],
        "a verifier, the reporter's KIM or the reporter",
    ),
    (S.NEEDS_INFO, S.ARCHIVED): ({V, T}, [], "a verifier or the timer"),
    (S.SUBMITTED, S.DUPLICATE): ({V}, [R.DUPLICATE_OF], "a verifier"),
    (S.VERIFIED, S.DUPLICATE): ({V}, [R.DUPLICATE_OF], "a verifier"),
    (S.SUBMITTED, S.NOT_AUTHORIZED): ({V}, [R.RESPONSIBLE_PARTY], "a verifier"),
    (S.VERIFIED, S.NOT_AUTHORIZED): ({V}, [R.RESPONSIBLE_PARTY], "a verifier"),
    (S.VERIFIED, S.DISPOSED): ({V}, [R.ASSIGNED_UNIT], "a verifier"),
    (S.DISPOSED, S.DISPOSED): (
        {V, U},
        [R.ASSIGNED_UNIT],
        "a verifier or the assigned unit",
    ),
    (S.DISPOSED, S.VERIFIED): ({U}, [R.REASON], "the assigned unit"),
    (S.DISPOSED, S.IN_PROGRESS): ({U}, [], "the assigned unit"),
    (S.DISPOSED, S.RESPONDED): ({U}, [R.RESPONSE], "the assigned unit"),
    (S.IN_PROGRESS, S.RESPONDED): ({U}, [R.RESPONSE], "the assigned unit"),
    (S.IN_PROGRESS, S.REJECTED): (
        {U},
        [R.REASON, R.PUBLIC_REASON],
        "the assigned unit",
    ),
    (S.RESPONDED, S.RESOLVED): (
        {K, V, P, T},
        [],
        "a verifier, the reporter's KIM, the reporter or the timer",
    ),
    (S.RESPONDED, S.IN_PROGRESS): (
        {K, V, P},
        [],
        "a verifier, the reporter's KIM or the reporter",
    ),
    (S.RESOLVED, S.IN_PROGRESS): ({V}, [R.REASON], "a verifier"),
    (S.REJECTED, S.IN_PROGRESS): ({V}, [R.REASON], "a verifier"),
    **{
        (source, S.WITHDRAWN): (
            {K, V, P},
            [],
            "a verifier, the reporter's KIM or the reporter",
        )
        for source in (
            S.SUBMITTED,
            S.NEEDS_INFO,
            S.VERIFIED,
            S.DISPOSED,
            S.IN_PROGRESS,
        )
    },
}
DEADLINE_ON_ENTRY = {
    S.SUBMITTED: Deadline.VERIFY,
    S.NEEDS_INFO: Deadline.ARCHIVE,
    S.VERIFIED: Deadline.DISPOSE,
    S.DISPOSED: Deadline.RESPOND,
    S.RESPONDED: Deadline.AUTO_RESOLVE,
}
# A dispute or a reopening: the unit answers again.
DEADLINE_ON_STEP = {
    (S.RESPONDED, S.IN_PROGRESS): Deadline.RESPOND_AGAIN,
    (S.RESOLVED, S.IN_PROGRESS): Deadline.RESPOND_AGAIN,
    (S.REJECTED, S.IN_PROGRESS): Deadline.RESPOND_AGAIN,
}
FULL_REQUEST = TransitionRequest(
    note="data tidak lengkap",
    public_note="Ditangani Dinas PUPR",
    assigned_unit="Dinas PUPR",
    duplicate_of_id=41,
)
EMPTY_REQUEST = TransitionRequest()
BLANK_REQUEST = TransitionRequest(note="  ", public_note=" \n", assigned_unit="\t")
DUE = datetime(2026, 3, 27, 23, 59, 59, 999999, tzinfo=ZONE)
AFTER_DUE = DUE + timedelta(microseconds=1)
TUESDAY = datetime(2026, 3, 17, 9, 0, tzinfo=ZONE)
EVERYONE = Actor(frozenset(Capacity))
NOBODY = Actor(frozenset())


def only(capacity: Capacity) -> Actor:
    """An actor with exactly one capacity."""
    return Actor(frozenset({capacity}))


def may(capacity: Capacity, row: Transition) -> bool:
    """Whether capacity may make the step: an ADMIN for the unit as the unit."""
    return capacity in row.capacities or (capacity is A and U in row.capacities)


def name(value: object) -> str:
    """Readable parametrize ids."""
    if isinstance(value, Transition):
        return f"{value.source}->{value.target}"
    return str(getattr(value, "name", value))


def test_the_table_is_the_design_table() -> None:
    assert {
        pair: (set(row.capacities), list(row.guards))
        for pair, row in ALL_TRANSITIONS.items()
    } == {pair: (caps, guards) for pair, (caps, guards, _) in DESIGN_TABLE.items()}
    assert {pair: row.waits for pair, row in ALL_TRANSITIONS.items() if row.waits} == {
        (S.NEEDS_INFO, S.ARCHIVED): {V, T},
        (S.RESPONDED, S.RESOLVED): {T},
    }
    assert all(
        pair == (row.source, row.target) for pair, row in ALL_TRANSITIONS.items()
    )


def test_statuses_split_into_open_and_final() -> None:
    assert {
        S.SUBMITTED,
        S.NEEDS_INFO,
        S.VERIFIED,
        S.DISPOSED,
        S.IN_PROGRESS,
        S.RESPONDED,
    } == OPEN_STATES
    assert {
        S.RESOLVED,
        S.REJECTED,
        S.NOT_AUTHORIZED,
        S.DUPLICATE,
        S.ARCHIVED,
        S.WITHDRAWN,
    } == FINAL_STATES
    assert OPEN_STATES - {S.RESPONDED} == WITHDRAWABLE_STATES
    assert [str(status) for status in S] == [
        "SUBMITTED",
        "NEEDS_INFO",
        "VERIFIED",
        "DISPOSED",
        "IN_PROGRESS",
        "RESPONDED",
        "RESOLVED",
        "REJECTED",
        "NOT_AUTHORIZED",
        "DUPLICATE",
        "ARCHIVED",
        "WITHDRAWN",
    ]


def test_next_states_follow_the_table() -> None:
    assert next_states(S.SUBMITTED) == [
        S.VERIFIED,
        S.NEEDS_INFO,
        S.ARCHIVED,
        S.DUPLICATE,
        S.NOT_AUTHORIZED,
        S.WITHDRAWN,
    ]
    assert next_states(S.RESPONDED) == [S.RESOLVED, S.IN_PROGRESS]
    assert next_states(S.WITHDRAWN) == []


@pytest.mark.parametrize(
    ("row", "capacity"),
    [
        (row, c)
        for row in ALL_TRANSITIONS.values()
        for c in Capacity
        if c in row.capacities
    ],
    ids=name,
)
def test_every_allowed_transition_passes_for_each_permitted_capacity(
    row: Transition, capacity: Capacity
) -> None:
    # when
    plan = check_transition(
        row.source, row.target, only(capacity), FULL_REQUEST, now=AFTER_DUE, due_at=DUE
    )
    # then
    assert plan == TransitionPlan(
        source=row.source,
        target=row.target,
        acting_as=capacity,
        deadline=DEADLINE_ON_STEP.get(
            (row.source, row.target), DEADLINE_ON_ENTRY.get(row.target)
        ),
        keeps_due_at=(row.source, row.target) == (S.DISPOSED, S.IN_PROGRESS),
    )


INVALID_PAIRS = [pair for pair in product(S, S) if pair not in DESIGN_TABLE]


def test_the_table_has_25_transitions_and_119_invalid_pairs() -> None:
    assert (len(ALL_TRANSITIONS), len(INVALID_PAIRS)) == (25, 119)


@pytest.mark.parametrize(("source", "target"), INVALID_PAIRS, ids=name)
def test_every_pair_outside_the_table_is_an_invalid_transition(
    source: AspirationStatus, target: AspirationStatus
) -> None:
    # given
    onward = [to for (from_, to) in DESIGN_TABLE if from_ is source]
    tail = (
        f"from {source} it can go to {', '.join(onward)}" if onward else "it is final"
    )
    # when
    with pytest.raises(InvalidTransition) as caught:
        check_transition(
            source, target, EVERYONE, FULL_REQUEST, now=AFTER_DUE, due_at=DUE
        )
    # then
    assert caught.value.problems == [
        Problem(
            ProblemCode.INVALID_TRANSITION,
            f"an aspiration cannot go from {source} to {target}; {tail}",
            ["input", "to"],
        )
    ]


def test_invalid_transition_messages_name_the_ways_onward() -> None:
    # when
    with pytest.raises(InvalidTransition) as reopened:
        check_transition(S.RESOLVED, S.SUBMITTED, EVERYONE, FULL_REQUEST)
    with pytest.raises(InvalidTransition) as withdrawn:
        check_transition(S.WITHDRAWN, S.SUBMITTED, EVERYONE, FULL_REQUEST)
    # then
    assert isinstance(reopened.value, UserInputError)
    assert str(reopened.value) == (
        "an aspiration cannot go from RESOLVED to SUBMITTED; "
        "from RESOLVED it can go to IN_PROGRESS"
    )
    assert str(withdrawn.value) == (
        "an aspiration cannot go from WITHDRAWN to SUBMITTED; it is final"
    )


@pytest.mark.parametrize(
    ("row", "actor"),
    [
        (row, actor)
        for row in ALL_TRANSITIONS.values()
        for actor in [NOBODY, *(only(c) for c in Capacity if not may(c, row))]
    ],
    ids=lambda value: (
        "+".join(c.name for c in value.capacities) or "nobody"
        if isinstance(value, Actor)
        else name(value)
    ),
)
def test_every_allowed_transition_is_forbidden_to_every_other_capacity(
    row: Transition, actor: Actor
) -> None:
    # given: an empty request, to show the caller is refused before any guard
    who = DESIGN_TABLE[(row.source, row.target)][2]
    # when
    with pytest.raises(TransitionForbidden) as caught:
        check_transition(
            row.source, row.target, actor, EMPTY_REQUEST, now=AFTER_DUE, due_at=DUE
        )
    # then
    assert caught.value.code == "FORBIDDEN"
    assert str(caught.value) == (
        f"only {who} may move an aspiration from {row.source} to {row.target}"
    )


REASON = "a reason is required to move from {} to {}"
PUBLIC_REASON = "publicNote must tell the reporter why it moves from {} to {}"
# Steps that also need a public reason, as a second problem after the first.
ALSO_PUBLIC = {
    (S.SUBMITTED, S.NEEDS_INFO),
    (S.SUBMITTED, S.ARCHIVED),
    (S.IN_PROGRESS, S.REJECTED),
}
GUARD_FAILURES = [
    (S.SUBMITTED, S.NEEDS_INFO, V, "note", REASON.format(S.SUBMITTED, S.NEEDS_INFO)),
    (S.SUBMITTED, S.ARCHIVED, V, "note", REASON.format(S.SUBMITTED, S.ARCHIVED)),
    (
        S.NEEDS_INFO,
        S.SUBMITTED,
        K,
        "note",
        "note must carry the information that was asked for",
    ),
    (
        S.SUBMITTED,
        S.DUPLICATE,
        V,
        "duplicateOfId",
        "duplicateOfId must name the earlier aspiration",
    ),
    (
        S.VERIFIED,
        S.DUPLICATE,
        V,
        "duplicateOfId",
        "duplicateOfId must name the earlier aspiration",
    ),
    (
        S.SUBMITTED,
        S.NOT_AUTHORIZED,
        V,
        "publicNote",
        "publicNote must say who is responsible instead",
    ),
    (
        S.VERIFIED,
        S.NOT_AUTHORIZED,
        V,
        "publicNote",
        "publicNote must say who is responsible instead",
    ),
    (
        S.VERIFIED,
        S.DISPOSED,
        V,
        "assignedUnit",
        "assignedUnit must name the unit to dispose to",
    ),
    (
        S.DISPOSED,
        S.DISPOSED,
        U,
        "assignedUnit",
        "assignedUnit must name the unit to dispose to",
    ),
    (S.DISPOSED, S.VERIFIED, U, "note", REASON.format(S.DISPOSED, S.VERIFIED)),
    (
        S.DISPOSED,
        S.RESPONDED,
        U,
        "publicNote",
        "publicNote must carry the response to the reporter",
    ),
    (
        S.IN_PROGRESS,
        S.RESPONDED,
        U,
        "publicNote",
        "publicNote must carry the response to the reporter",
    ),
    (S.IN_PROGRESS, S.REJECTED, U, "note", REASON.format(S.IN_PROGRESS, S.REJECTED)),
    (S.RESOLVED, S.IN_PROGRESS, V, "note", REASON.format(S.RESOLVED, S.IN_PROGRESS)),
    (S.REJECTED, S.IN_PROGRESS, V, "note", REASON.format(S.REJECTED, S.IN_PROGRESS)),
]


def test_the_guard_failures_cover_every_guarded_transition() -> None:
    assert [(source, target) for source, target, *_ in GUARD_FAILURES] == [
        pair for pair, row in ALL_TRANSITIONS.items() if row.guards
    ]


@pytest.mark.parametrize("request_", [EMPTY_REQUEST, BLANK_REQUEST], ids=["", "blank"])
@pytest.mark.parametrize(
    ("source", "target", "capacity", "field", "message"), GUARD_FAILURES, ids=name
)
def test_each_failed_guard_is_an_input_error_on_its_field(
    source: AspirationStatus,
    target: AspirationStatus,
    capacity: Capacity,
    field: str,
    message: str,
    request_: TransitionRequest,
) -> None:
    # when
    with pytest.raises(GuardFailed) as caught:
        check_transition(source, target, only(capacity), request_)
    # then
    also = [
        Problem(
            ProblemCode.INVALID,
            PUBLIC_REASON.format(source, target),
            ["input", "publicNote"],
        )
    ]
    assert caught.value.problems == [
        Problem(ProblemCode.INVALID, message, ["input", field]),
        *(also if (source, target) in ALSO_PUBLIC else []),
    ]


@pytest.mark.parametrize("request_", [EMPTY_REQUEST, BLANK_REQUEST], ids=["", "blank"])
def test_the_reporter_answers_in_text_recorded_as_the_public_note(
    request_: TransitionRequest,
) -> None:
    # when
    with pytest.raises(GuardFailed) as caught:
        check_transition(S.NEEDS_INFO, S.SUBMITTED, only(P), request_)
    answered = check_transition(
        S.NEEDS_INFO,
        S.SUBMITTED,
        only(P),
        TransitionRequest(public_note="Foto terlampir di KIM."),
    )
    # then: the internal note would not do; the reporter has none
    assert caught.value.problems == [
        Problem(
            ProblemCode.INVALID,
            "text must carry the information that was asked for",
            ["input", "text"],
        )
    ]
    assert answered.acting_as is P


@pytest.mark.parametrize(
    ("source", "target", "actor"),
    [
        (S.NEEDS_INFO, S.ARCHIVED, only(V)),
        (S.NEEDS_INFO, S.ARCHIVED, TIMER),
        (S.RESPONDED, S.RESOLVED, TIMER),
    ],
    ids=name,
)
def test_waiting_actors_act_only_after_the_deadline(
    source: AspirationStatus, target: AspirationStatus, actor: Actor
) -> None:
    # when
    with pytest.raises(GuardFailed) as on_time:
        check_transition(source, target, actor, EMPTY_REQUEST, now=DUE, due_at=DUE)
    with pytest.raises(GuardFailed) as undated:
        check_transition(source, target, actor, EMPTY_REQUEST, now=AFTER_DUE)
    late = check_transition(
        source, target, actor, EMPTY_REQUEST, now=AFTER_DUE, due_at=DUE
    )
    # then
    prefix = f"an aspiration can go from {source} to {target} only after its deadline"
    assert on_time.value.problems == [
        Problem(
            ProblemCode.INVALID,
            f"{prefix} (2026-03-27 23:59 WIB) has passed",
            ["input", "to"],
        )
    ]
    assert undated.value.problems == [
        Problem(ProblemCode.INVALID, f"{prefix} has passed", ["input", "to"])
    ]
    assert late.target is target


def test_the_reporters_kim_and_a_verifier_resolve_a_response_without_waiting() -> None:
    # when
    by_kim = check_transition(
        S.RESPONDED, S.RESOLVED, only(K), EMPTY_REQUEST, now=TUESDAY, due_at=DUE
    )
    by_kim_and_timer = check_transition(
        S.RESPONDED, S.RESOLVED, Actor(frozenset({K, T})), EMPTY_REQUEST
    )
    by_verifier = check_transition(S.RESPONDED, S.RESOLVED, only(V), EMPTY_REQUEST)
    # then
    assert (by_kim.acting_as, by_kim_and_timer.acting_as, by_verifier.acting_as) == (
        K,
        K,
        V,
    )


def test_a_plan_starts_keeps_or_clears_the_deadline() -> None:
    # given
    before = datetime(2026, 3, 16, 23, 59, 59, 999999, tzinfo=ZONE)

    def due_after(source: AspirationStatus, target: AspirationStatus) -> object:
        plan = check_transition(source, target, EVERYONE, FULL_REQUEST)
        return plan.next_due_at(TUESDAY, before)

    # when / then: Tuesday 17 March 2026, just before Nyepi and Idul Fitri
    assert due_after(S.NEEDS_INFO, S.SUBMITTED) == datetime(
        2026, 3, 27, 23, 59, 59, 999999, tzinfo=ZONE
    )
    assert due_after(S.SUBMITTED, S.NEEDS_INFO) == datetime(
        2026, 4, 8, 23, 59, 59, 999999, tzinfo=ZONE
    )
    assert due_after(S.VERIFIED, S.DISPOSED) == datetime(
        2026, 3, 31, 23, 59, 59, 999999, tzinfo=ZONE
    )
    assert due_after(S.DISPOSED, S.DISPOSED) == datetime(
        2026, 3, 31, 23, 59, 59, 999999, tzinfo=ZONE
    )
    assert due_after(S.IN_PROGRESS, S.RESPONDED) == datetime(
        2026, 4, 8, 23, 59, 59, 999999, tzinfo=ZONE
    )
    assert due_after(S.DISPOSED, S.IN_PROGRESS) == before
    # Nyepi (19 March), its cuti bersama (18 March) and Idul Fitri with its
    # cuti bersama (20-24 March) are skipped: 2 working days end on the 26th.
    assert due_after(S.SUBMITTED, S.VERIFIED) == datetime(
        2026, 3, 26, 23, 59, 59, 999999, tzinfo=ZONE
    )
    assert due_after(S.DISPOSED, S.VERIFIED) == datetime(
        2026, 3, 26, 23, 59, 59, 999999, tzinfo=ZONE
    )
    assert due_after(S.RESPONDED, S.IN_PROGRESS) == datetime(
        2026, 4, 8, 23, 59, 59, 999999, tzinfo=ZONE
    )
    assert due_after(S.RESOLVED, S.IN_PROGRESS) == datetime(
        2026, 4, 8, 23, 59, 59, 999999, tzinfo=ZONE
    )
    assert due_after(S.REJECTED, S.IN_PROGRESS) == datetime(
        2026, 4, 8, 23, 59, 59, 999999, tzinfo=ZONE
    )
    assert due_after(S.IN_PROGRESS, S.WITHDRAWN) is None


def test_deadlines_run_their_working_days_and_fire_their_transitions() -> None:
    assert {d: (d.working_days, d.fires, d.turns_overdue) for d in Deadline} == {
        Deadline.VERIFY: (3, None, True),
        Deadline.ARCHIVE: (10, S.ARCHIVED, False),
        Deadline.DISPOSE: (2, None, True),
        Deadline.RESPOND: (5, None, True),
        Deadline.RESPOND_AGAIN: (10, None, True),
        Deadline.AUTO_RESOLVE: (10, S.RESOLVED, False),
    }
    assert {status: entry_deadline(status) for status in S} == {
        status: DEADLINE_ON_ENTRY.get(status) for status in S
    }
    assert Deadline.VERIFY.due_at(TUESDAY) == DUE


PUPR, DINKES = 3, 4


@pytest.mark.parametrize(
    ("principal", "unit_id", "capacities"),
    [
        (Principal(Role.ADMIN, "61.04"), None, {V}),
        (Principal(Role.ADMIN, "61.04"), PUPR, {V, A}),
        (Principal(Role.ADMIN, "61.05"), PUPR, set()),
        (Principal(Role.OFFICER, "61.04.16"), None, {V, U}),
        (Principal(Role.OFFICER, "61.04.16.2006"), None, {V, U}),
        # Disposed to a unit: an officer in scope outside it verifies only ...
        (Principal(Role.OFFICER, "61.04.16"), PUPR, {V}),
        # ... a member in scope is the unit and no longer its verifier ...
        (Principal(Role.OFFICER, "61.04.16", unit_ids=frozenset({PUPR})), PUPR, {U}),
        # ... and a member outside the scope is the unit all the same.
        (Principal(Role.OFFICER, "61.04.01", unit_ids=frozenset({PUPR})), PUPR, {U}),
        (
            Principal(Role.OFFICER, "61.04.01", unit_ids=frozenset({DINKES})),
            PUPR,
            set(),
        ),
        (Principal(Role.OFFICER, "61.04.01", unit_ids=frozenset({PUPR})), None, set()),
        (Principal(Role.OFFICER, "61.04.01"), None, set()),
        # Membership counts for officers only (a role change revokes tokens).
        (Principal(Role.KIM, "61.04.01", unit_ids=frozenset({PUPR})), PUPR, set()),
        (Principal(Role.KIM, "61.04.16.2006", kim_id=7), None, {K}),
        (Principal(Role.KIM, "61.04.16.2006", kim_id=8), None, set()),
        (Principal(Role.PARTNER, "61.04"), None, set()),
        (ANONYMOUS, None, set()),
    ],
    ids=lambda value: str(value.role) if isinstance(value, Principal) else None,
)
def test_actor_capacities_follow_role_scope_kim_and_unit(
    principal: Principal, unit_id: int | None, capacities: set[Capacity]
) -> None:
    # when
    actor = actor_for(principal, region_code="61.04.16.2006", kim_id=7, unit_id=unit_id)
    # then
    assert actor == Actor(frozenset(capacities))


@pytest.mark.parametrize(
    "row",
    [row for row in ALL_TRANSITIONS.values() if row.capacities == {U}],
    ids=name,
)
def test_an_admin_for_the_unit_needs_a_reason_and_is_recorded_so(
    row: Transition,
) -> None:
    # given: every input but the note
    without_note = TransitionRequest(
        public_note="Perbaikan dijadwalkan.", assigned_unit="Dinas PUPR"
    )
    # when
    with pytest.raises(GuardFailed) as caught:
        check_transition(row.source, row.target, only(A), without_note)
    plan = check_transition(row.source, row.target, only(A), FULL_REQUEST)
    # then: the step's own reason, or else the ADMIN's, is asked for in note
    fields = {tuple(p.field or ()) for p in caught.value.problems}
    assert fields == {("input", "note")}
    assert plan.acting_as is A


def test_no_kim_and_no_unit_match_nobody() -> None:
    # given
    kim = Principal(Role.KIM, "61.04.16.2006", kim_id=7)
    officer = Principal(Role.OFFICER, "61.04.01")
    # when
    kim_actor = actor_for(kim, region_code="61.04.16.2006", kim_id=None)
    officer_actor = actor_for(officer, region_code="61.04.16.2006", kim_id=None)
    # then
    assert kim_actor == officer_actor == NOBODY
    assert only(T) == TIMER
