"""aspirationTransition against the table of docs/aspiration-workflow.md."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest

from kimgraph import models
from kimgraph.aspirations.records import Author, StepText, apply_step
from kimgraph.aspirations.workflow import (
    ALL_TRANSITIONS,
    Actor,
    Capacity,
    Transition,
    TransitionRequest,
    check_transition,
)
from kimgraph.clock import FixedClock
from kimgraph.cursors import decode_id
from kimgraph.events import log
from kimgraph.models.aspirations import AspirationStatus
from tests.conftest import execute
from tests.people import Cast, nobody_listens, snapshot
from tests.resolvers.aspirations.steps import (
    MUTATION_ASPIRATION_TRANSITION,
    PATHS,
    QUERY_ASPIRATION,
    S,
    aspiration_in,
    step_input,
    transition,
)

ALLOW = "allow"
EVERY_PART = Actor(frozenset(Capacity))
# Callers with a part in the home aspiration, and the parts they play in it.
INSIDERS: dict[str, set[Capacity]] = {
    "admin": {Capacity.VERIFIER},
    "officer_in_scope": {Capacity.VERIFIER, Capacity.UNIT},
    "kim_home": {Capacity.REPORTER_KIM},
}
# Callers without any part in it, and what they get whatever they ask for:
# those who may not read it find no such aspiration (test_existence.py).
OUTSIDERS = {
    "anonymous": "UNAUTHENTICATED",
    "partner": "FORBIDDEN",
    "kim_other_desa": "NOT_FOUND",
    "officer_out_of_scope": "NOT_FOUND",
}


def outcome(body: dict[str, Any]) -> str:
    """allow, the top-level error code, or the single userErrors code."""
    if body.get("errors"):
        assert len(body["errors"]) == 1, body
        return str(body["errors"][0]["extensions"]["code"])
    payload = body["data"]["aspirationTransition"]
    if payload["userErrors"]:
        assert len(payload["userErrors"]) == 1, payload
        assert payload["aspiration"] is None, payload
        return str(payload["userErrors"][0]["code"])
    return ALLOW


def expected(principal: str, row: Transition | None) -> str:
    """What principal gets for a step: row None means a pair the table lacks."""
    if principal in OUTSIDERS:
        return OUTSIDERS[principal]
    if row is None:
        return "INVALID_TRANSITION"
    return ALLOW if INSIDERS[principal] & row.capacities else "FORBIDDEN"


def allowed_from(source: AspirationStatus) -> list[tuple[Transition, str]]:
    """Each allowed step out of source with each insider who may make it."""
    return [
        (row, principal)
        for (start, _), row in ALL_TRANSITIONS.items()
        if start is source
        for principal in INSIDERS
        if expected(principal, row) == ALLOW
    ]


@pytest.mark.parametrize("source", list(S), ids=lambda s: str(s))
async def test_every_step_out_of_a_status_with_every_caller(
    client: httpx.AsyncClient,
    cast: Cast,
    clock: FixedClock,
    source: AspirationStatus,
) -> None:
    # given
    aspiration_id, version = await aspiration_in(client, cast, source)
    before = await snapshot()
    # when: every caller asks for every target
    refused = {}
    for target in S:
        row = ALL_TRANSITIONS.get((source, target))
        for principal in [*OUTSIDERS, *INSIDERS]:
            if expected(principal, row) == ALLOW:
                continue
            body = await transition(
                client, cast, aspiration_id, target, version, principal
            )
            refused[(target, principal)] = outcome(body)
    # then: each refusal is the one the table gives, and nothing changed
    assert refused == {
        key: expected(key[1], ALL_TRANSITIONS.get((source, key[0]))) for key in refused
    }
    assert await snapshot() == before
    # when: each allowed step is made by each caller who may, on a fresh one
    for row, principal in allowed_from(source):
        fresh_id, fresh_version = await aspiration_in(client, cast, source)
        if row.waits & INSIDERS[principal]:
            # NEEDS_INFO → ARCHIVED waits for its deadline: let it pass (moving
            # the clock 10 working days would also expire every token).
            await models.Aspiration.filter(id=decode_id("Aspiration", fresh_id)).update(
                due_at=clock.now() - timedelta(seconds=1)
            )
        body = await transition(
            client, cast, fresh_id, row.target, fresh_version, principal
        )
        # then
        assert outcome(body) == ALLOW, (row, principal, body)
        payload = body["data"]["aspirationTransition"]["aspiration"]
        assert (payload["status"], payload["version"]) == (
            row.target.value,
            fresh_version + 1,
        )
        key = decode_id("Aspiration", fresh_id)
        steps = await models.AspirationTransition.filter(aspiration_id=key).order_by(
            "-id"
        )
        assert len(steps) == len(PATHS[source]) + 2
        assert (steps[0].from_status, steps[0].to_status) == (source, row.target)


async def test_a_stale_expected_version_is_a_conflict_and_changes_nothing(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    # given
    aspiration_id, version = await aspiration_in(client, cast, S.VERIFIED)
    before = await snapshot()
    # when
    body = await transition(client, cast, aspiration_id, S.DISPOSED, version - 1)
    # then
    assert body["data"]["aspirationTransition"] == {
        "aspiration": None,
        "userErrors": [
            {
                "field": ["input", "expectedVersion"],
                "code": "CONFLICT",
                "message": "the aspiration is at version 2, not 1: reload it and "
                "try again",
            }
        ],
    }
    assert await snapshot() == before


async def test_two_officers_at_once_one_wins_the_other_conflicts(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    # given: several aspirations, each raced for by two officers
    for _ in range(5):
        aspiration_id, version = await aspiration_in(client, cast, S.SUBMITTED)
        key = decode_id("Aspiration", aspiration_id)
        events_before = await models.Event.filter(entity_id=key).count()
        # when: both send the same expectedVersion at the same moment
        bodies = await asyncio.gather(
            execute(
                client,
                MUTATION_ASPIRATION_TRANSITION,
                {"id": aspiration_id, "input": step_input(cast, S.VERIFIED, version)},
                cast.headers["officer_in_scope"],
            ),
            execute(
                client,
                MUTATION_ASPIRATION_TRANSITION,
                {
                    "id": aspiration_id,
                    "input": step_input(cast, S.NEEDS_INFO, version),
                },
                cast.headers["admin"],
            ),
        )
        # then: exactly one step happened, with one history row and one event
        results = sorted(outcome(body) for body in bodies)
        assert results == sorted([ALLOW, "CONFLICT"]), bodies
        steps = await models.AspirationTransition.filter(aspiration_id=key)
        assert len(steps) == 2  # the submission and the winner
        assert await models.Event.filter(entity_id=key).count() == events_before + 1
        row = await models.Aspiration.get(id=key)
        assert row.version == 2
        winner = next(b for b in bodies if outcome(b) == ALLOW)
        assert (
            row.status == winner["data"]["aspirationTransition"]["aspiration"]["status"]
        )


async def test_guards_report_every_missing_input_and_change_nothing(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    # given
    aspiration_id, version = await aspiration_in(client, cast, S.VERIFIED)
    before = await snapshot()
    # when
    body = await execute(
        client,
        MUTATION_ASPIRATION_TRANSITION,
        {
            "id": aspiration_id,
            "input": {
                "to": "DISPOSED",
                "expectedVersion": version,
                "assignedUnit": "   ",
                "duplicateOfId": aspiration_id,
                "note": "x" * 2001,
            },
        },
        cast.headers["officer_in_scope"],
    )
    # then
    assert body["data"]["aspirationTransition"] == {
        "aspiration": None,
        "userErrors": [
            {
                "field": ["input", "assignedUnit"],
                "code": "INVALID",
                "message": "assignedUnit must name the unit to dispose to",
            },
            {
                "field": ["input", "note"],
                "code": "INVALID",
                "message": "must have at most 2000 characters",
            },
            {
                "field": ["input", "duplicateOfId"],
                "code": "INVALID",
                "message": "duplicateOfId applies only when moving to DUPLICATE",
            },
        ],
    }
    assert await snapshot() == before


async def test_the_history_keeps_every_step_with_notes_for_those_who_may_read_them(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    # given
    aspiration_id, _ = await aspiration_in(client, cast, S.RESPONDED)
    # when
    bodies = {
        who: await execute(
            client, QUERY_ASPIRATION, {"id": aspiration_id}, cast.headers[who]
        )
        for who in ("officer_in_scope", "kim_home")
    }
    # then
    steps = [
        (s["from"], s["to"], s["note"], s["publicNote"], s["assignedUnit"])
        for s in bodies["officer_in_scope"]["data"]["aspiration"]["history"]
    ]
    assert steps == [
        (None, "SUBMITTED", None, None, None),
        ("SUBMITTED", "VERIFIED", "Bukan kewenangan dinas kami.", None, None),
        ("VERIFIED", "DISPOSED", None, None, "Dinas PUPR"),
        ("DISPOSED", "IN_PROGRESS", "Dikerjakan kembali.", None, None),
        (
            "IN_PROGRESS",
            "RESPONDED",
            None,
            "Perbaikan dijadwalkan minggu depan.",
            None,
        ),
    ]
    kim_view = bodies["kim_home"]["data"]["aspiration"]["history"]
    assert [s["note"] for s in kim_view] == [None] * 5
    assert [s["actorName"] for s in kim_view] == [
        "Kim Suka Bangun",
        *["Camat Delta Pawan"] * 4,
    ]


async def test_the_conditional_update_refuses_a_version_that_moved_on(
    cast: Cast, clock: FixedClock
) -> None:
    # given: a step planned on version 1, then somebody else moves it first
    row = await models.Aspiration.get(id=cast.home_aspiration.id)
    plan = check_transition(row.status, S.VERIFIED, EVERY_PART, TransitionRequest())
    await models.Aspiration.filter(id=row.id).update(version=2)
    # when
    async with log.transaction(nobody_listens) as tx:
        event_id = await apply_step(
            tx,
            row,
            plan,
            StepText(),
            expected_version=1,
            actor=Author("Camat Delta Pawan"),
            at=clock.now(),
        )
    # then: nothing written
    assert event_id is None
    assert await models.AspirationTransition.filter(aspiration_id=row.id).count() == 1
    assert (await models.Aspiration.get(id=row.id)).status is S.SUBMITTED


async def test_history_rows_are_insert_only(cast: Cast) -> None:
    step = await models.AspirationTransition.get(aspiration_id=cast.home_aspiration.id)
    step.note = "diubah"
    with pytest.raises(TypeError, match="insert-only"):
        await step.save()
    with pytest.raises(TypeError, match="insert-only"):
        await step.delete()
