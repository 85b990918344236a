"""Dispositions to units, archiving, renaming and the list of units."""

from __future__ import annotations

import httpx

from kimgraph.clock import FixedClock
from kimgraph.cursors import encode_id
from tests.conftest import execute
from tests.people import Cast, snapshot
from tests.resolvers.aspirations.steps import (
    MUTATION_ASPIRATION_TRANSITION,
    S,
    aspiration_in,
)
from tests.resolvers.unit_desk import dispose, errors, unit_desk

ARCHIVE = """
mutation ($id: ID!) {
  unitArchive(id: $id) { unit { name } userErrors { field code message } }
}
"""
UPDATE = """
mutation ($id: ID!, $input: UnitUpdateInput!) {
  unitUpdate(id: $id, input: $input) {
    unit { name } userErrors { field code message }
  }
}
"""
UNITS = """
query ($region: String, $first: Int, $after: String) {
  units(region: $region, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { name region { code } members { username } } }
  }
}
"""


async def test_disposition_names_a_unit_in_use_that_serves_the_region(
    client: httpx.AsyncClient, cast: Cast, clock: FixedClock
) -> None:
    # given
    desk = await unit_desk(clock, cast)
    aspiration_id, version = await aspiration_in(client, cast, S.VERIFIED)
    tries = [
        (
            {"unitId": desk.benua_kayong_office},
            "unitId",
            "INVALID",
            "Kantor Camat serves region 61.04.18, not 61.04.16.2006",
        ),
        (
            {"assignedUnit": "Dinas PUPR"},
            "assignedUnit",
            "INVALID",
            "units serve region 61.04.16.2006: name one with unitId",
        ),
        (
            {"unitId": desk.pupr, "assignedUnit": "Dinas PUPR"},
            "assignedUnit",
            "INVALID",
            "give unitId or assignedUnit, not both",
        ),
        (
            {"unitId": encode_id("Unit", 999_999)},
            "unitId",
            "NOT_FOUND",
            "there is no such unit",
        ),
    ]
    before = await snapshot()
    for extra, field, code, message in tries:
        # when
        body = await execute(
            client,
            MUTATION_ASPIRATION_TRANSITION,
            {
                "id": aspiration_id,
                "input": {"to": "DISPOSED", "expectedVersion": version, **extra},
            },
            cast.headers["officer_in_scope"],
        )
        # then
        assert errors(body, "aspirationTransition") == [
            {"field": ["input", field], "code": code, "message": message}
        ]
    assert await snapshot() == before


async def test_an_archived_unit_takes_nothing_new_and_keeps_its_open_work(
    client: httpx.AsyncClient, cast: Cast, clock: FixedClock
) -> None:
    # given: one open aspiration disposed to Dinas Kesehatan
    desk = await unit_desk(clock, cast)
    aspiration_id, version = await dispose(client, cast, desk, desk.dinkes)
    # when
    refused = await execute(client, ARCHIVE, {"id": desk.dinkes}, desk.headers["admin"])
    # then
    assert errors(refused, "unitArchive") == [
        {
            "field": ["id"],
            "code": "INVALID",
            "message": "1 open aspiration is disposed to Dinas Kesehatan; dispose "
            "them to another unit first",
        }
    ]
    # when: passed on to PUPR, then archived
    moved = await execute(
        client,
        MUTATION_ASPIRATION_TRANSITION,
        {
            "id": aspiration_id,
            "input": {
                "to": "DISPOSED",
                "expectedVersion": version,
                "unitId": desk.pupr,
            },
        },
        desk.headers["dinkes_member"],
    )
    archived = await execute(
        client, ARCHIVE, {"id": desk.dinkes}, desk.headers["admin"]
    )
    again = await execute(client, ARCHIVE, {"id": desk.dinkes}, desk.headers["admin"])
    listed = await execute(client, UNITS, {"region": "61.04.16"}, desk.headers["admin"])
    # then
    assert errors(moved, "aspirationTransition") == []
    assert errors(archived, "unitArchive") == errors(again, "unitArchive") == []
    assert [e["node"]["name"] for e in listed["data"]["units"]["edges"]] == [
        "Dinas PUPR"
    ]


async def test_units_are_listed_by_the_region_they_serve_and_paged(
    client: httpx.AsyncClient, cast: Cast, clock: FixedClock
) -> None:
    # given
    desk = await unit_desk(clock, cast)
    # when
    first = await execute(
        client,
        UNITS,
        {"region": "61.04.16", "first": 1},
        desk.headers["officer_in_scope"],
    )
    cursor = first["data"]["units"]["pageInfo"]["endCursor"]
    rest = await execute(
        client,
        UNITS,
        {"region": "61.04.16", "after": cursor},
        desk.headers["officer_in_scope"],
    )
    whole = await execute(client, UNITS, {}, desk.headers["admin"])
    outside = await execute(
        client, UNITS, {"region": "61.04.18"}, desk.headers["officer_in_scope"]
    )
    # then: the kabupaten's units serve the kecamatan; members only for ADMIN
    assert first["data"]["units"]["totalCount"] == 2
    assert [e["node"] for e in first["data"]["units"]["edges"]] == [
        {"name": "Dinas PUPR", "region": {"code": "61.04"}, "members": None}
    ]
    assert [e["node"]["name"] for e in rest["data"]["units"]["edges"]] == [
        "Dinas Kesehatan"
    ]
    assert [
        (e["node"]["name"], len(e["node"]["members"]))
        for e in whole["data"]["units"]["edges"]
    ] == [("Dinas PUPR", 2), ("Dinas Kesehatan", 1), ("Kantor Camat", 0)]
    assert errors(outside, "units") == "FORBIDDEN"


async def test_a_rename_keeps_the_name_on_aspirations_disposed_before(
    client: httpx.AsyncClient, cast: Cast, clock: FixedClock
) -> None:
    # given
    desk = await unit_desk(clock, cast)
    aspiration_id, _ = await dispose(client, cast, desk, desk.pupr)
    # when
    renamed = await execute(
        client,
        UPDATE,
        {"id": desk.pupr, "input": {"name": "Dinas PUPR dan Perkim"}},
        desk.headers["admin"],
    )
    read = await execute(
        client,
        "query ($id: ID!) { aspiration(id: $id) { assignedUnit unit { name } } }",
        {"id": aspiration_id},
        desk.headers["admin"],
    )
    # then
    assert renamed["data"]["unitUpdate"] == {
        "unit": {"name": "Dinas PUPR dan Perkim"},
        "userErrors": [],
    }
    assert read["data"]["aspiration"] == {
        "assignedUnit": "Dinas PUPR",
        "unit": {"name": "Dinas PUPR dan Perkim"},
    }
