"""aspirationReporterKeyReissue: a verifier replaces a lost reporter key."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from kimgraph import models
from kimgraph.clock import FixedClock
from kimgraph.cursors import encode_id
from tests.conftest import execute
from tests.people import Cast, snapshot
from tests.resolvers.aspirations.steps import MUTATION_ASPIRATION_TRANSITION
from tests.resolvers.aspirations.test_reporter_steps import (
    WRONG_KEY,
    payload_of,
    reporter_step,
)
from tests.resolvers.unit_desk import unit_desk

MUTATION_ASPIRATION_REPORTER_KEY_REISSUE = """
mutation ($input: AspirationReporterKeyReissueInput!) {
  aspirationReporterKeyReissue(input: $input) {
    aspiration { id status version }
    reporterKey
    userErrors { field code message }
  }
}
"""
REASON = "Pelapor datang ke kantor camat membawa tiket; kunci hilang."
KEY = re.compile(r"([2-9A-HJKMNP-Z]{4}-){3}[2-9A-HJKMNP-Z]{4}")
UNCHANGED = {"aspiration": None, "reporterKey": None}


async def reissue(
    client: httpx.AsyncClient, headers: dict[str, str], **input: Any
) -> dict[str, Any]:
    """The whole response body of one reissue."""
    return await execute(
        client,
        MUTATION_ASPIRATION_REPORTER_KEY_REISSUE,
        {"input": {"reason": REASON} | input},
        headers,
    )


async def audit_rows() -> list[tuple[object, ...]]:
    """The audit trail: snapshot() does not hold it."""
    return [
        tuple(row)
        for row in await models.AuditEntry.all()
        .order_by("id")
        .values_list("actor", "role", "action", "target_type", "target_id", "summary")
    ]


async def everything() -> tuple[object, ...]:
    return (await snapshot(), await audit_rows())


@pytest.mark.parametrize(
    ("principal", "name"),
    [
        ("officer_in_scope", "ticket"),  # read out over the phone, any case
        ("admin", "id"),
    ],
)
async def test_a_verifier_issues_a_new_key_and_the_old_one_stops_working(
    client: httpx.AsyncClient, cast: Cast, principal: str, name: str
) -> None:
    # given: the cast's aspiration, submitted with a key the reporter lost
    row = cast.home_aspiration
    aspiration_id = encode_id("Aspiration", row.id)
    named = {"ticket": row.ticket.lower(), "id": aspiration_id}[name]
    trail = await audit_rows()
    # when
    body = await reissue(client, cast.headers[principal], **{name: named})
    # then: a fresh key, once; status and version as they were
    payload = body["data"]["aspirationReporterKeyReissue"]
    key = payload.pop("reporterKey")
    assert KEY.fullmatch(key)
    assert key != cast.home_reporter_key
    assert payload == {
        "aspiration": {"id": aspiration_id, "status": "SUBMITTED", "version": 1},
        "userErrors": [],
    }
    # and: one audit row with the reason, and no key in the trail
    actor, role = {
        "officer_in_scope": ("camat_delta_pawan", "OFFICER"),
        "admin": ("diskominfo", "ADMIN"),
    }[principal]
    summary = f'{{"reason": "{REASON}", "replaced": true}}'
    assert await audit_rows() == [
        *trail,
        (
            actor,
            role,
            "aspiration.reporter_key_reissue",
            "Aspiration",
            aspiration_id,
            summary,
        ),
    ]
    stored = (await models.Aspiration.get(id=row.id)).reporter_key_hash
    assert stored is not None
    table = repr(await models.AuditEntry.all().values_list())
    assert [s for s in (key, key.replace("-", ""), stored) if s in table] == []
    # when: the old key
    before = await everything()
    old = payload_of(
        await reporter_step(client, row.ticket, cast.home_reporter_key, "WITHDRAW")
    )
    # then: refused like any wrong key, and nothing changes
    assert old == {"aspiration": None, "userErrors": WRONG_KEY}
    assert await everything() == before
    # and: the new key takes the reporter's step
    new = payload_of(await reporter_step(client, row.ticket, key, "WITHDRAW"))
    assert (new["aspiration"]["status"], new["userErrors"]) == ("WITHDRAWN", [])


async def test_an_aspiration_from_before_keys_gets_one_the_same_way(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    # given: submitted before 0015_reporter_keys: no key at all
    row = cast.home_aspiration
    await models.Aspiration.filter(id=row.id).update(reporter_key_hash=None)
    refused = payload_of(
        await reporter_step(client, row.ticket, cast.home_reporter_key, "WITHDRAW")
    )
    assert refused["userErrors"] == WRONG_KEY
    # when
    body = await reissue(client, cast.headers["officer_in_scope"], ticket=row.ticket)
    # then: the first key it has, recorded as replacing none
    key = body["data"]["aspirationReporterKeyReissue"]["reporterKey"]
    assert KEY.fullmatch(key)
    (*_, summary) = (await audit_rows())[-1]
    assert summary == f'{{"reason": "{REASON}", "replaced": false}}'
    new = payload_of(await reporter_step(client, row.ticket, key, "WITHDRAW"))
    assert (new["aspiration"]["status"], new["userErrors"]) == ("WITHDRAWN", [])


DENIED = {
    "anonymous": {
        "code": "UNAUTHENTICATED",
        "message": "sign in to issue reporter keys",
    },
    # Not a credential of the API: refused at the door, with HTTP 401.
    "reporter": {
        "code": "UNAUTHENTICATED",
        "message": "the bearer credential is not a KIMgraph token or API key",
    },
    "partner": {
        "code": "FORBIDDEN",
        "message": "a PARTNER caller may not issue reporter keys",
    },
    "kim_home": {
        "code": "FORBIDDEN",
        "message": "a KIM caller may not issue reporter keys",
    },
    "kim_other_desa": {
        "code": "FORBIDDEN",
        "message": "a KIM caller may not issue reporter keys",
    },
    "pupr_member": {
        "code": "FORBIDDEN",
        "message": "only a verifier may issue a reporter key",
    },
}


@pytest.mark.parametrize("principal", [*DENIED, "officer_out_of_scope"])
async def test_only_a_verifier_of_the_region_may_issue_a_key(
    client: httpx.AsyncClient, cast: Cast, clock: FixedClock, principal: str
) -> None:
    # given: the cast's aspiration disposed to Dinas PUPR, whose member acts on
    # it as the unit; the reporter shows its key as if it were a token
    desk = await unit_desk(clock, cast)
    row = cast.home_aspiration
    aspiration_id = encode_id("Aspiration", row.id)
    for version, fields in enumerate(
        [{"to": "VERIFIED"}, {"to": "DISPOSED", "unitId": desk.pupr}], start=1
    ):
        moved = await execute(
            client,
            MUTATION_ASPIRATION_TRANSITION,
            {"id": aspiration_id, "input": {"expectedVersion": version, **fields}},
            cast.headers["officer_in_scope"],
        )
        assert moved["data"]["aspirationTransition"]["userErrors"] == []
    headers = desk.headers | {
        "reporter": {"authorization": f"Bearer {cast.home_reporter_key}"}
    }
    before = await everything()
    # when
    response = await client.post(
        "/graphql",
        json={
            "query": MUTATION_ASPIRATION_REPORTER_KEY_REISSUE,
            "variables": {"input": {"id": aspiration_id, "reason": REASON}},
        },
        headers=headers[principal],
    )
    body = response.json()
    assert response.status_code == (401 if principal == "reporter" else 200)
    # then: refused with the reason, and nothing changed: the old key still works
    if principal == "officer_out_of_scope":
        assert body == {
            "data": {
                "aspirationReporterKeyReissue": UNCHANGED
                | {
                    "userErrors": [
                        {
                            "field": ["input", "id"],
                            "code": "NOT_FOUND",
                            "message": "there is no such aspiration",
                        }
                    ]
                }
            }
        }
    else:
        assert body["data"] is None
        [error] = body["errors"]
        assert {
            "code": error["extensions"]["code"],
            "message": error["message"],
        } == DENIED[principal]
    assert await everything() == before
    kept = payload_of(
        await reporter_step(client, row.ticket, cast.home_reporter_key, "WITHDRAW")
    )
    assert (kept["aspiration"]["status"], kept["userErrors"]) == ("WITHDRAWN", [])


def problem(field: list[str], code: str, message: str) -> dict[str, Any]:
    return {"field": field, "code": code, "message": message}


ONE_OF = problem(["input"], "INVALID", "give either the aspiration's id or its ticket")


@pytest.mark.parametrize(
    ("given", "errors"),
    [
        ({}, [ONE_OF]),
        ({"id": "HOME", "ticket": "HOME"}, [ONE_OF]),
        (
            {"id": "HOME", "reason": "   "},
            [problem(["input", "reason"], "INVALID", "must have 1-500 characters")],
        ),
        (
            {"id": "HOME", "reason": "x" * 501},
            [
                problem(
                    ["input", "reason"], "INVALID", "must have at most 500 characters"
                )
            ],
        ),
        (
            {"ticket": "ASP-6104-2026-22222222"},
            [problem(["input", "ticket"], "NOT_FOUND", "there is no such aspiration")],
        ),
        (
            {"id": encode_id("Aspiration", 999999)},
            [problem(["input", "id"], "NOT_FOUND", "there is no such aspiration")],
        ),
    ],
    ids=["neither", "both", "no-reason", "long-reason", "ticket", "id"],
)
async def test_bad_input_changes_nothing(
    client: httpx.AsyncClient,
    cast: Cast,
    given: dict[str, Any],
    errors: list[dict[str, Any]],
) -> None:
    # given: the home aspiration, named where the input says HOME
    row = cast.home_aspiration
    home = {"id": encode_id("Aspiration", row.id), "ticket": row.ticket}
    input = {name: home[name] if v == "HOME" else v for name, v in given.items()}
    before = await everything()
    # when
    body = await reissue(client, cast.headers["officer_in_scope"], **input)
    # then
    assert body == {
        "data": {"aspirationReporterKeyReissue": UNCHANGED | {"userErrors": errors}}
    }
    assert await everything() == before


async def test_a_closed_aspiration_gets_no_key(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    # given: withdrawn by its reporter: no step is left to take with a key
    row = cast.home_aspiration
    await reporter_step(client, row.ticket, cast.home_reporter_key, "WITHDRAW")
    before = await everything()
    # when
    body = await reissue(client, cast.headers["officer_in_scope"], ticket=row.ticket)
    # then
    assert body == {
        "data": {
            "aspirationReporterKeyReissue": UNCHANGED
            | {
                "userErrors": [
                    problem(
                        ["input", "ticket"],
                        "INVALID",
                        "the aspiration is WITHDRAWN: the reporter has no step "
                        "left to take with a key",
                    )
                ]
            }
        }
    }
    assert await everything() == before
