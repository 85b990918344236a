"""Units managed by ADMIN in scope: creation, members, and what a refusal leaves."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from kimgraph import models
from kimgraph.clock import FixedClock
from kimgraph.cursors import encode_id
from tests.conftest import execute
from tests.people import Cast, snapshot
from tests.resolvers.aspirations.steps import (
    MUTATION_ASPIRATION_TRANSITION,
)
from tests.resolvers.unit_desk import UnitDesk, dispose, errors, unit_desk

CREATE = """
mutation ($input: UnitCreateInput!) {
  unitCreate(input: $input) {
    unit { name region { code } archivedAt members { username } }
    userErrors { field code message }
  }
}
"""
MEMBER_ADD = """
mutation ($id: ID!, $account: ID!) {
  unitMemberAdd(id: $id, accountId: $account) {
    unit { members { username } } userErrors { field code message }
  }
}
"""
MEMBER_REMOVE = """
mutation ($id: ID!, $account: ID!) {
  unitMemberRemove(id: $id, accountId: $account) {
    unit { members { username } } userErrors { field code message }
  }
}
"""


async def units_now() -> list[tuple[object, ...]]:
    """Every unit and membership row, to prove a refusal changed nothing."""
    return [
        *[tuple(r) for r in await models.Unit.all().order_by("id").values_list()],
        *[tuple(r) for r in await models.UnitMember.all().order_by("id").values_list()],
    ]


async def account_id(username: str) -> str:
    return encode_id("Account", (await models.Account.get(username=username)).id)


async def test_an_admin_creates_a_unit_and_adds_an_officer(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    # when
    created = await execute(
        client,
        CREATE,
        {"input": {"name": " Dinas PUPR ", "region": "61.04"}},
        cast.headers["admin"],
    )
    # then
    assert created["data"]["unitCreate"] == {
        "unit": {
            "name": "Dinas PUPR",
            "region": {"code": "61.04"},
            "archivedAt": None,
            "members": [],
        },
        "userErrors": [],
    }
    unit = encode_id("Unit", (await models.Unit.get(name="Dinas PUPR")).id)
    # when
    added = await execute(
        client,
        MEMBER_ADD,
        {"id": unit, "account": await account_id("camat_delta_pawan")},
        cast.headers["admin"],
    )
    # then
    assert added["data"]["unitMemberAdd"] == {
        "unit": {"members": [{"username": "camat_delta_pawan"}]},
        "userErrors": [],
    }


@pytest.mark.parametrize(
    ("who", "name", "region", "wanted"),
    [
        ("officer_in_scope", "Dinas PUPR", "61.04", "FORBIDDEN"),
        ("kim_home", "Dinas PUPR", "61.04", "FORBIDDEN"),
        ("partner", "Dinas PUPR", "61.04", "FORBIDDEN"),
        ("anonymous", "Dinas PUPR", "61.04", "UNAUTHENTICATED"),
        (
            "admin",
            "Dinas PUPR",
            "61",
            [
                {
                    "field": ["input", "region"],
                    "code": "OUT_OF_SCOPE",
                    "message": "region 61 lies outside your region 61.04",
                }
            ],
        ),
        (
            "admin",
            "Dinas Kesehatan",
            "61.04",
            [
                {
                    "field": ["input", "name"],
                    "code": "INVALID",
                    "message": "a unit named 'Dinas Kesehatan' already serves "
                    "region 61.04",
                }
            ],
        ),
        (
            "admin",
            "  ",
            "61.04.99",
            [
                {
                    "field": ["input", "name"],
                    "code": "INVALID",
                    "message": "must have 1-200 characters",
                },
                {
                    "field": ["input", "region"],
                    "code": "NOT_FOUND",
                    "message": "there is no region with code 61.04.99",
                },
            ],
        ),
    ],
)
async def test_unit_creation_refused_changes_nothing(
    client: httpx.AsyncClient,
    cast: Cast,
    clock: FixedClock,
    who: str,
    name: str,
    region: str,
    wanted: Any,
) -> None:
    # given
    await unit_desk(clock, cast)
    before = await units_now()
    # when
    body = await execute(
        client, CREATE, {"input": {"name": name, "region": region}}, cast.headers[who]
    )
    # then
    assert errors(body, "unitCreate") == wanted
    assert await units_now() == before


async def membership_refusals(desk: UnitDesk, cast: Cast) -> list[Any]:
    """(mutation, variables, caller, what it gets) for refused membership changes."""
    kim = await account_id("kim_suka_bangun")
    member = await account_id("pupr_member")
    other = await account_id("camat_delta_pawan")
    missing = encode_id("Account", 999_999)

    def error(field: list[str], code: str, message: str) -> list[dict[str, Any]]:
        return [{"field": field, "code": code, "message": message}]

    return [
        (
            MEMBER_ADD,
            {"id": desk.pupr, "account": other},
            "officer_in_scope",
            "FORBIDDEN",
        ),
        (
            MEMBER_ADD,
            {"id": desk.pupr, "account": kim},
            "admin",
            error(
                ["accountId"],
                "INVALID",
                "only OFFICER accounts belong to units; kim_suka_bangun is KIM",
            ),
        ),
        (
            MEMBER_ADD,
            {"id": desk.pupr, "account": member},
            "admin",
            error(
                ["accountId"],
                "INVALID",
                "pupr_member is already a member of Dinas PUPR",
            ),
        ),
        (
            MEMBER_ADD,
            {"id": desk.pupr, "account": missing},
            "admin",
            error(["accountId"], "NOT_FOUND", "there is no such account"),
        ),
        (
            MEMBER_ADD,
            {"id": encode_id("Unit", 999_999), "account": other},
            "admin",
            error(["id"], "NOT_FOUND", "there is no such unit"),
        ),
        (
            MEMBER_REMOVE,
            {"id": desk.pupr, "account": other},
            "admin",
            error(
                ["accountId"],
                "INVALID",
                "camat_delta_pawan is not a member of Dinas PUPR",
            ),
        ),
        (MEMBER_REMOVE, {"id": desk.pupr, "account": member}, "kim_home", "FORBIDDEN"),
    ]


async def test_membership_changes_refused_change_nothing(
    client: httpx.AsyncClient, cast: Cast, clock: FixedClock
) -> None:
    # given
    desk = await unit_desk(clock, cast)
    before = await units_now()
    for query, variables, who, wanted in await membership_refusals(desk, cast):
        # when
        body = await execute(client, query, variables, desk.headers[who])
        # then
        field = "unitMemberAdd" if query is MEMBER_ADD else "unitMemberRemove"
        assert errors(body, field) == wanted, (variables, who)
    assert await units_now() == before


async def test_a_removed_member_no_longer_acts_as_the_unit(
    client: httpx.AsyncClient, cast: Cast, clock: FixedClock
) -> None:
    # given
    desk = await unit_desk(clock, cast)
    aspiration_id, version = await dispose(client, cast, desk, desk.pupr)
    # when
    removed = await execute(
        client,
        MEMBER_REMOVE,
        {"id": desk.pupr, "account": await account_id("pupr_member")},
        desk.headers["admin"],
    )
    before = await snapshot()
    body = await execute(
        client,
        MUTATION_ASPIRATION_TRANSITION,
        {
            "id": aspiration_id,
            "input": {"to": "IN_PROGRESS", "expectedVersion": version},
        },
        desk.headers["pupr_member"],
    )
    # then: out of its scope, the aspiration is out of its reach again
    assert removed["data"]["unitMemberRemove"]["unit"]["members"] == [
        {"username": "pupr_in_scope"}
    ]
    assert errors(body, "aspirationTransition") == [
        {"field": ["id"], "code": "NOT_FOUND", "message": "there is no such aspiration"}
    ]
    assert await snapshot() == before
