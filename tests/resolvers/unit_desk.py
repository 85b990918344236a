"""Units and their members on top of the permission cast, for the unit tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from kimgraph import models
from kimgraph.accounts.principals import Role
from kimgraph.clock import Clock
from kimgraph.cursors import encode_id
from kimgraph.units import management
from tests.conftest import execute
from tests.people import Cast, _account
from tests.resolvers.aspirations.steps import (
    MUTATION_ASPIRATION_TRANSITION,
    S,
    submit,
    transition,
)

KABUPATEN = "61.04"
BENUA_KAYONG = "61.04.18"
DELTA_PAWAN = "61.04.16"


@dataclass(frozen=True)
class UnitDesk:
    """Credentials of the cast and of unit members; the units' global ids."""

    headers: dict[str, dict[str, str]]
    pupr: str
    dinkes: str
    # Serves Benua Kayong only: not the home desa.
    benua_kayong_office: str


async def unit_desk(clock: Clock, cast: Cast) -> UnitDesk:
    """Dinas PUPR and Dinas Kesehatan for the kabupaten, with their members.

    pupr_member's own scope (Benua Kayong) does not hold the home desa: it acts
    on what is disposed to its unit all the same. pupr_in_scope is a member
    whose scope holds it: as the unit, it is not its verifier.
    """
    pupr = await management.create(clock, None, "Dinas PUPR", KABUPATEN)
    dinkes = await management.create(clock, None, "Dinas Kesehatan", KABUPATEN)
    office = await management.create(clock, None, "Kantor Camat", BENUA_KAYONG)
    members = {
        "pupr_member": (BENUA_KAYONG, pupr),
        "pupr_in_scope": (DELTA_PAWAN, pupr),
        "dinkes_member": (BENUA_KAYONG, dinkes),
    }
    headers = dict(cast.headers)
    for name, (region, unit) in members.items():
        token = await _account(clock, name, Role.OFFICER, region)
        account = await models.Account.get(username=name)
        await management.add_member(clock, None, unit.id, account.id)
        headers[name] = {"authorization": f"Bearer {token}"}
    return UnitDesk(
        headers,
        encode_id("Unit", pupr.id),
        encode_id("Unit", dinkes.id),
        encode_id("Unit", office.id),
    )


async def dispose(
    client: httpx.AsyncClient,
    cast: Cast,
    desk: UnitDesk,
    unit: str,
    **fields: Any,
) -> tuple[str, int]:
    """A new aspiration of the home KIM, verified and disposed to unit."""
    aspiration = await submit(client, cast, **fields)
    verified = await transition(client, cast, aspiration["id"], S.VERIFIED, 1)
    assert verified["data"]["aspirationTransition"]["userErrors"] == []
    body = await execute(
        client,
        MUTATION_ASPIRATION_TRANSITION,
        {
            "id": aspiration["id"],
            "input": {"to": "DISPOSED", "expectedVersion": 2, "unitId": unit},
        },
        desk.headers["officer_in_scope"],
    )
    payload = body["data"]["aspirationTransition"]
    assert payload["userErrors"] == [], payload
    return aspiration["id"], 3


def errors(body: dict[str, Any], field: str) -> list[dict[str, Any]] | str:
    """The payload's userErrors, or the top-level error code."""
    if body.get("errors"):
        return str(body["errors"][0]["extensions"]["code"])
    found: list[dict[str, Any]] = body["data"][field]["userErrors"]
    return found
