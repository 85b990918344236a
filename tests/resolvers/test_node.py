"""`node(id:)` finds every Node type, as that type's own query shows it."""

from __future__ import annotations

import httpx
import pytest

from kimgraph import models
from kimgraph.cursors import encode_id
from resolvers.nodes import RESOLVERS_BY_TYPE
from tests.conftest import execute
from tests.people import Cast

QUERY_NODE = """
query ($id: ID!) {
  node(id: $id) {
    __typename id
    ... on Announcement { title status }
    ... on ApiKey { name prefix region { code } }
  }
}
"""


async def test_every_node_type_has_a_resolver(client: httpx.AsyncClient) -> None:
    body = await execute(client, '{ __type(name: "Node") { possibleTypes { name } } }')
    names = {t["name"] for t in body["data"]["__type"]["possibleTypes"]}
    assert names == set(RESOLVERS_BY_TYPE)


@pytest.mark.parametrize(
    "principal",
    ["anonymous", "partner", "kim_other_desa", "officer_in_scope", "admin"],
)
async def test_node_finds_an_announcement_as_announcement_does(
    client: httpx.AsyncClient, cast: Cast, principal: str
) -> None:
    # given
    announcement = encode_id("Announcement", cast.home_announcement.id)
    # when
    body = await execute(
        client, QUERY_NODE, {"id": announcement}, cast.headers[principal]
    )
    # then
    assert body == {
        "data": {
            "node": {
                "__typename": "Announcement",
                "id": announcement,
                "title": "Posyandu Suka Bangun",
                "status": "ACTIVE",
            }
        }
    }


@pytest.mark.parametrize(
    ("principal", "shown"),
    [
        ("anonymous", False),
        ("partner", False),
        ("kim_home", False),
        ("officer_in_scope", False),
        ("admin", True),
    ],
)
async def test_node_shows_an_api_key_to_whom_may_list_keys(
    client: httpx.AsyncClient, cast: Cast, principal: str, shown: bool
) -> None:
    # given: the partner's key (region 61.04)
    row = await models.ApiKey.get(name="Aplikasi Layanan Publik")
    key = encode_id("ApiKey", row.id)
    # when
    body = await execute(client, QUERY_NODE, {"id": key}, cast.headers[principal])
    listed = await execute(
        client, "{ apiKeys { id name prefix } }", headers=cast.headers[principal]
    )
    # then: shown exactly where apiKeys lists it
    expected = {
        "__typename": "ApiKey",
        "id": key,
        "name": "Aplikasi Layanan Publik",
        "prefix": row.prefix,
        "region": {"code": "61.04"},
    }
    assert body == {"data": {"node": expected if shown else None}}
    if shown:
        assert listed["data"]["apiKeys"] == [
            {"id": key, "name": "Aplikasi Layanan Publik", "prefix": row.prefix}
        ]
    else:
        assert listed["data"] is None


async def test_node_hides_an_api_key_outside_the_admins_region(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    # given: a key of another kabupaten (Kota Pontianak's would do as well)
    row = await models.ApiKey.get(name="Aplikasi Layanan Publik")
    row.region_id = "61"
    await row.save(update_fields=["region_id"])
    # when
    body = await execute(
        client,
        QUERY_NODE,
        {"id": encode_id("ApiKey", row.id)},
        cast.headers["admin"],
    )
    # then
    assert body == {"data": {"node": None}}
