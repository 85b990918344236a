"""The permission matrix of a unit's steps (docs/aspiration-workflow.md, "Units").

Every unit step with every kind of caller. The reporter key (issue 13) is no
caller of aspirationTransition: aspirationReporterStep has no action into
RESPONDED, VERIFIED, DISPOSED or REJECTED, and its one way into IN_PROGRESS
(DISPUTE) is refused on a disposed aspiration (the last test here; the whole
reporter matrix is tests/resolvers/aspirations/test_reporter_steps.py).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from kimgraph import models
from kimgraph.aspirations.submission import key_digest
from kimgraph.clock import FixedClock
from kimgraph.cursors import decode_id
from tests.conftest import execute
from tests.people import Cast, snapshot
from tests.resolvers.aspirations.steps import MUTATION_ASPIRATION_TRANSITION, S
from tests.resolvers.aspirations.test_reporter_steps import (
    MUTATION_ASPIRATION_REPORTER_STEP,
)
from tests.resolvers.aspirations.test_transitions import ALLOW, outcome
from tests.resolvers.unit_desk import UnitDesk, dispose, unit_desk

REASON = "Dinas PUPR tidak aktif; diambil alih Diskominfo."
# (from, to, input besides to and expectedVersion); "{dinkes}" is filled in.
UNIT_STEPS: list[tuple[S, S, dict[str, Any]]] = [
    (S.DISPOSED, S.IN_PROGRESS, {}),
    (S.DISPOSED, S.RESPONDED, {"publicNote": "Perbaikan dijadwalkan Senin."}),
    (S.DISPOSED, S.VERIFIED, {"note": "Bukan kewenangan dinas kami."}),
    (S.DISPOSED, S.DISPOSED, {"unitId": "{dinkes}"}),
    (S.IN_PROGRESS, S.RESPONDED, {"publicNote": "Sudah diperbaiki."}),
    (
        S.IN_PROGRESS,
        S.REJECTED,
        {"note": "Lokasi di lahan pribadi.", "publicNote": "Di luar kewenangan."},
    ),
]
UNIT = {"actingAs": "UNIT", "unit": "Dinas PUPR"}
# What each caller gets; a dict is an allowed step and its history row.
EXPECTED: dict[str, Any] = {
    "pupr_member": UNIT,  # its scope does not hold the aspiration
    "pupr_in_scope": UNIT,  # in scope, but the unit: not the verifier
    "dinkes_member": "NOT_FOUND",  # another unit, out of scope
    "officer_in_scope": "FORBIDDEN",  # the region's verifier, not the unit
    "admin_without_reason": "INVALID",
    "admin_with_reason": {"actingAs": "ADMIN_FOR_UNIT", "unit": "Dinas PUPR"},
    "kim_home": "FORBIDDEN",
    "officer_out_of_scope": "NOT_FOUND",
    "kim_other_desa": "NOT_FOUND",
    "partner": "FORBIDDEN",
    "anonymous": "UNAUTHENTICATED",
}
# Re-disposition is a verifier's step too: the region's officer and an ADMIN
# make it as verifiers, no reason needed.
REDISPOSITION = {
    "officer_in_scope": {"actingAs": "VERIFIER", "unit": "Dinas Kesehatan"},
    "admin_without_reason": {"actingAs": "VERIFIER", "unit": "Dinas Kesehatan"},
    "admin_with_reason": {"actingAs": "VERIFIER", "unit": "Dinas Kesehatan"},
    "pupr_member": {"actingAs": "UNIT", "unit": "Dinas Kesehatan"},
    "pupr_in_scope": {"actingAs": "UNIT", "unit": "Dinas Kesehatan"},
}
QUERY_LAST_STEP = """
query ($id: ID!) {
  aspiration(id: $id) {
    status version assignedUnit unit { name }
    history { to actingAs note unit { name } }
  }
}
"""


def expected(caller: str, source: S, target: S) -> Any:
    """What caller gets for the unit step source → target."""
    if (source, target) == (S.DISPOSED, S.DISPOSED) and caller in REDISPOSITION:
        return REDISPOSITION[caller]
    return EXPECTED[caller]


def step_input(
    desk: UnitDesk, caller: str, extra: dict[str, Any], version: int, target: S
) -> dict[str, Any]:
    fields = {k: v.format(dinkes=desk.dinkes) for k, v in extra.items()}
    if caller == "admin_with_reason":
        fields["note"] = REASON
    if caller == "admin_without_reason":
        fields.pop("note", None)
    return {"to": target.value, "expectedVersion": version, **fields}


def headers(desk: UnitDesk, caller: str) -> dict[str, str]:
    return desk.headers["admin" if caller.startswith("admin_") else caller]


async def aspiration_at(
    client: httpx.AsyncClient, cast: Cast, desk: UnitDesk, source: S
) -> tuple[str, int]:
    """A new aspiration disposed to Dinas PUPR, taken on by it if need be."""
    aspiration_id, version = await dispose(client, cast, desk, desk.pupr)
    if source is S.IN_PROGRESS:
        body = await execute(
            client,
            MUTATION_ASPIRATION_TRANSITION,
            {"id": aspiration_id, "input": {"to": "IN_PROGRESS", "expectedVersion": 3}},
            desk.headers["pupr_member"],
        )
        assert outcome(body) == ALLOW, body
        version = 4
    return aspiration_id, version


@pytest.mark.parametrize(
    ("source", "target", "extra"),
    UNIT_STEPS,
    ids=[f"{s}->{t}" for s, t, _ in UNIT_STEPS],
)
async def test_a_unit_step_with_every_caller(
    client: httpx.AsyncClient,
    cast: Cast,
    clock: FixedClock,
    source: S,
    target: S,
    extra: dict[str, Any],
) -> None:
    # given
    desk = await unit_desk(clock, cast)
    aspiration_id, version = await aspiration_at(client, cast, desk, source)
    key = decode_id("Aspiration", aspiration_id)
    before = await snapshot()
    # when: every caller who may not make it tries
    refused = {}
    for caller in EXPECTED:
        if isinstance(expected(caller, source, target), dict):
            continue
        body = await execute(
            client,
            MUTATION_ASPIRATION_TRANSITION,
            {
                "id": aspiration_id,
                "input": step_input(desk, caller, extra, version, target),
            },
            headers(desk, caller),
        )
        refused[caller] = outcome(body)
    # then: each is refused as expected, and nothing changed at all (status,
    # version, history rows, events, timers)
    assert refused == {c: expected(c, source, target) for c in refused}
    assert await snapshot() == before
    row = await models.Aspiration.get(id=key)
    assert (row.status, row.version) == (source, version)
    # when: each caller who may makes it, on a fresh aspiration
    for caller in EXPECTED:
        wanted = expected(caller, source, target)
        if not isinstance(wanted, dict):
            continue
        fresh_id, fresh_version = await aspiration_at(client, cast, desk, source)
        body = await execute(
            client,
            MUTATION_ASPIRATION_TRANSITION,
            {
                "id": fresh_id,
                "input": step_input(desk, caller, extra, fresh_version, target),
            },
            headers(desk, caller),
        )
        assert outcome(body) == ALLOW, (caller, body)
        # then: the history row says in what part, and for which unit
        read = await execute(
            client, QUERY_LAST_STEP, {"id": fresh_id}, desk.headers["admin"]
        )
        found = read["data"]["aspiration"]
        last = found["history"][-1]
        assert (found["status"], found["version"]) == (target.value, fresh_version + 1)
        assert {"actingAs": last["actingAs"], "unit": last["unit"]["name"]} == wanted
        if caller == "admin_with_reason":
            assert last["note"] == REASON


async def test_a_hand_back_clears_the_unit_and_a_redisposition_moves_it(
    client: httpx.AsyncClient, cast: Cast, clock: FixedClock
) -> None:
    # given
    desk = await unit_desk(clock, cast)
    aspiration_id, version = await dispose(client, cast, desk, desk.pupr)
    # when: PUPR passes it on to Dinas Kesehatan
    moved = await execute(
        client,
        MUTATION_ASPIRATION_TRANSITION,
        {
            "id": aspiration_id,
            "input": {
                "to": "DISPOSED",
                "expectedVersion": version,
                "unitId": desk.dinkes,
            },
        },
        desk.headers["pupr_member"],
    )
    # then: PUPR can no longer read it, Dinas Kesehatan can
    assert outcome(moved) == ALLOW, moved
    by = {
        who: (
            await execute(
                client, QUERY_LAST_STEP, {"id": aspiration_id}, desk.headers[who]
            )
        )["data"]["aspiration"]
        for who in ("pupr_member", "dinkes_member")
    }
    assert by["pupr_member"] is None
    assert (by["dinkes_member"]["assignedUnit"], by["dinkes_member"]["unit"]) == (
        "Dinas Kesehatan",
        {"name": "Dinas Kesehatan"},
    )
    # when: Dinas Kesehatan hands it back
    back = await execute(
        client,
        MUTATION_ASPIRATION_TRANSITION,
        {
            "id": aspiration_id,
            "input": {
                "to": "VERIFIED",
                "expectedVersion": version + 1,
                "note": "Bukan kewenangan kami.",
            },
        },
        desk.headers["dinkes_member"],
    )
    # then: no unit any more; the history keeps both
    assert outcome(back) == ALLOW, back
    found = (
        await execute(
            client, QUERY_LAST_STEP, {"id": aspiration_id}, desk.headers["admin"]
        )
    )["data"]["aspiration"]
    assert (found["status"], found["assignedUnit"], found["unit"]) == (
        "VERIFIED",
        None,
        None,
    )
    assert [(h["to"], h["actingAs"], h["unit"]) for h in found["history"][2:]] == [
        ("DISPOSED", "VERIFIER", {"name": "Dinas PUPR"}),
        ("DISPOSED", "UNIT", {"name": "Dinas Kesehatan"}),
        ("VERIFIED", "UNIT", {"name": "Dinas Kesehatan"}),
    ]


async def test_the_reporter_key_takes_no_unit_step(
    client: httpx.AsyncClient, cast: Cast, clock: FixedClock
) -> None:
    # given: an aspiration disposed to Dinas PUPR, with a known reporter key
    desk = await unit_desk(clock, cast)
    aspiration_id, _ = await dispose(client, cast, desk, desk.pupr)
    row = await models.Aspiration.get(id=decode_id("Aspiration", aspiration_id))
    await models.Aspiration.filter(id=row.id).update(
        reporter_key_hash=key_digest("2345-6789-ABCD-EFGH")
    )
    before = await snapshot()
    # when: the reporter tries to start the work, as a dispute would
    body = await execute(
        client,
        MUTATION_ASPIRATION_REPORTER_STEP,
        {
            "input": {
                "ticket": row.ticket,
                "key": "2345-6789-ABCD-EFGH",
                "action": "DISPUTE",
            }
        },
    )
    # then
    assert body["data"]["aspirationReporterStep"] == {
        "aspiration": None,
        "userErrors": [
            {
                "field": ["input", "action"],
                "code": "INVALID_TRANSITION",
                "message": "the reporter can DISPUTE an aspiration only when it is "
                "RESPONDED; it is DISPOSED",
            }
        ],
    }
    assert await snapshot() == before
