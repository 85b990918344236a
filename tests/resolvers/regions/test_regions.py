"""Region queries: lookups, typed lists, connections, errors and query counts."""

from __future__ import annotations

import csv
from importlib import resources
from typing import Any

import httpx
import pytest

from kimgraph.regions import importer as region_import
from tests.conftest import QueryLog, execute

QUERY_KABUPATEN_TREE = """
query KabupatenTree($code: String!) {
  region(code: $code) {
    name
    ... on Kabupaten {
      kecamatan { code desa { code } kelurahan { code } }
    }
  }
}
"""

QUERY_REGION = """
query Region($code: String!) {
  region(code: $code) {
    __typename id code name level
    parent { code name }
    ancestors { code }
    ... on Desa { kecamatan { code name } }
    ... on Kelurahan { kecamatan { code name } }
  }
}
"""

QUERY_CHILDREN = """
query Children($code: String!, $first: Int, $after: String) {
  region(code: $code) {
    children(first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { cursor node { code } }
    }
  }
}
"""

QUERY_REGIONS = """
query Regions(
  $search: String, $level: RegionLevel, $within: String, $first: Int, $after: String
) {
  regions(
    search: $search, level: $level, within: $within, first: $first, after: $after
  ) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { code name parent { code } } }
  }
}
"""

QUERY_NODE = """
query Node($id: ID!) { node(id: $id) { __typename id ... on Region { code } } }
"""


def codes(connection: dict[str, Any]) -> list[str]:
    return [edge["node"]["code"] for edge in connection["edges"]]


async def test_ketapang_tree_has_20_kecamatan_253_desa_9_kelurahan(
    client: httpx.AsyncClient,
) -> None:
    # when
    body = await execute(client, QUERY_KABUPATEN_TREE, {"code": "61.04"})
    # then
    region = body["data"]["region"]
    assert region["name"] == "Kabupaten Ketapang"
    kecamatan = region["kecamatan"]
    assert len(kecamatan) == 20
    assert sum(len(k["desa"]) for k in kecamatan) == 253
    assert sum(len(k["kelurahan"]) for k in kecamatan) == 9
    delta_pawan = next(k for k in kecamatan if k["code"] == "61.04.16")
    assert [k["code"] for k in delta_pawan["kelurahan"]] == [
        "61.04.16.1001",
        "61.04.16.1002",
        "61.04.16.1003",
        "61.04.16.1004",
        "61.04.16.1005",
    ]
    assert [k["code"] for k in kecamatan] == sorted(k["code"] for k in kecamatan)
    assert "errors" not in body


async def test_a_desa_knows_its_parent_ancestors_and_kecamatan(
    client: httpx.AsyncClient,
) -> None:
    # when
    body = await execute(client, QUERY_REGION, {"code": "61.04.01.2011"})
    # then
    region = body["data"]["region"]
    assert region == {
        "__typename": "Desa",
        "id": region["id"],
        "code": "61.04.01.2011",
        "name": "Sungai Putri",
        "level": "DESA",
        "parent": {"code": "61.04.01", "name": "Matan Hilir Utara"},
        "ancestors": [{"code": "61"}, {"code": "61.04"}, {"code": "61.04.01"}],
        "kecamatan": {"code": "61.04.01", "name": "Matan Hilir Utara"},
    }


async def test_a_provinsi_has_no_parent(client: httpx.AsyncClient) -> None:
    body = await execute(client, QUERY_REGION, {"code": "61"})
    region = body["data"]["region"]
    assert (region["__typename"], region["name"], region["level"]) == (
        "Provinsi",
        "Kalimantan Barat",
        "PROVINSI",
    )
    assert (region["parent"], region["ancestors"]) == (None, [])


async def test_an_unknown_well_formed_code_gives_null(
    client: httpx.AsyncClient,
) -> None:
    body = await execute(client, QUERY_REGION, {"code": "61.04.01.2999"})
    assert body == {"data": {"region": None}}


@pytest.mark.parametrize("code", ["61.4", "6104", "61.04.16.4001", "abc", ""])
async def test_a_malformed_code_is_a_top_level_error(
    client: httpx.AsyncClient, code: str
) -> None:
    body = await execute(client, QUERY_REGION, {"code": code})
    assert body["data"] == {"region": None}
    assert [(e["path"], e["extensions"]) for e in body["errors"]] == [
        (["region"], {"code": "INVALID_REGION_CODE"})
    ]
    assert body["errors"][0]["message"].startswith(f"{code!r} is not a Kemendagri")


async def test_children_page_through_with_cursors(client: httpx.AsyncClient) -> None:
    # given: Delta Pawan has 5 kelurahan and 4 desa
    variables: dict[str, Any] = {"code": "61.04.16", "first": 4}
    # when
    pages = []
    while True:
        body = await execute(client, QUERY_CHILDREN, variables)
        page = body["data"]["region"]["children"]
        pages.append(codes(page))
        if not page["pageInfo"]["hasNextPage"]:
            break
        variables["after"] = page["pageInfo"]["endCursor"]
    # then
    assert pages == [
        ["61.04.16.1001", "61.04.16.1002", "61.04.16.1003", "61.04.16.1004"],
        ["61.04.16.1005", "61.04.16.2006", "61.04.16.2007", "61.04.16.2008"],
        ["61.04.16.2009"],
    ]
    assert page["totalCount"] == 9


def ketapang_rows() -> list[dict[str, str]]:
    """The bundled Ketapang file, read independently of the importer."""
    path = resources.files("kimgraph.data") / "ketapang.csv"
    with path.open(encoding="utf-8") as stream:
        return list(csv.DictReader(stream))


async def test_search_is_case_insensitive_and_pages_in_code_order(
    client: httpx.AsyncClient,
) -> None:
    # given
    expected = [
        {
            "code": row["code"],
            "name": row["name"],
            "parent": {"code": row["parent_code"]},
        }
        for row in ketapang_rows()
        if "sungai" in row["name"].lower()
    ]
    assert len(expected) == 19
    assert expected[0]["name"] == "Sungai Putri"
    # when
    first = await execute(
        client, QUERY_REGIONS, {"search": "sungai", "within": "61.04", "first": 3}
    )
    rest = await execute(
        client,
        QUERY_REGIONS,
        {
            "search": "SUNGAI",
            "within": "61.04",
            "first": 100,
            "after": first["data"]["regions"]["pageInfo"]["endCursor"],
        },
    )
    # then
    page = first["data"]["regions"]
    assert page["totalCount"] == 19
    assert page["pageInfo"]["hasNextPage"] is True
    assert [e["node"] for e in page["edges"]] == expected[:3]
    tail = rest["data"]["regions"]
    assert [e["node"] for e in tail["edges"]] == expected[3:]
    assert (tail["totalCount"], tail["pageInfo"]["hasNextPage"]) == (19, False)


async def test_level_and_within_filter_by_whole_segments(
    client: httpx.AsyncClient,
) -> None:
    body = await execute(
        client, QUERY_REGIONS, {"level": "KELURAHAN", "within": "61.04", "first": 100}
    )
    assert codes(body["data"]["regions"]) == [
        "61.04.16.1001",
        "61.04.16.1002",
        "61.04.16.1003",
        "61.04.16.1004",
        "61.04.16.1005",
        "61.04.18.1001",
        "61.04.18.1002",
        "61.04.18.1004",
        "61.04.18.1009",
    ]
    # the kecamatan itself is not within itself
    body = await execute(client, QUERY_REGIONS, {"within": "61.04.01", "first": 100})
    assert codes(body["data"]["regions"]) == [
        row["code"] for row in ketapang_rows() if row["parent_code"] == "61.04.01"
    ]


async def test_search_ignores_accents(client: httpx.AsyncClient) -> None:
    body = await execute(client, QUERY_REGIONS, {"search": "DÉLTA pawan"})
    assert codes(body["data"]["regions"]) == ["61.04.16"]


async def test_regions_within_an_unknown_code_is_not_found(
    client: httpx.AsyncClient,
) -> None:
    body = await execute(client, QUERY_REGIONS, {"within": "61.05"})
    assert body["data"] is None
    assert body["errors"] == [
        {
            "message": "there is no region with code 61.05",
            "locations": [{"line": 5, "column": 3}],
            "path": ["regions"],
            "extensions": {"code": "NOT_FOUND"},
        }
    ]


@pytest.mark.parametrize(
    ("variables", "code", "message"),
    [
        ({"within": "61.4"}, "INVALID_REGION_CODE", "'61.4' is not a Kemendagri"),
        ({"first": 101}, "INVALID_ARGUMENT", "first must be between 0 and 100"),
        ({"first": -1}, "INVALID_ARGUMENT", "first must be between 0 and 100"),
        ({"after": "bm9wZQ"}, "INVALID_CURSOR", "'bm9wZQ' is not a cursor"),
    ],
)
async def test_bad_list_arguments_are_top_level_errors(
    client: httpx.AsyncClient, variables: dict[str, Any], code: str, message: str
) -> None:
    body = await execute(client, QUERY_REGIONS, variables)
    assert body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == [code]
    assert body["errors"][0]["message"].startswith(message)


async def test_node_finds_a_region_by_its_global_id(client: httpx.AsyncClient) -> None:
    # given
    region = (await execute(client, QUERY_REGION, {"code": "61.04.16"}))["data"][
        "region"
    ]
    # when
    body = await execute(client, QUERY_NODE, {"id": region["id"]})
    # then
    assert body == {
        "data": {
            "node": {"__typename": "Kecamatan", "id": region["id"], "code": "61.04.16"}
        }
    }


@pytest.mark.parametrize(
    "global_id",
    ["", "not base64!", "S2VjYW1hdGFuOjYxLjA0Ljk5", "RGVzYTo2MS4wNC4xNg"],
)
async def test_node_with_a_foreign_or_unknown_id_is_null(
    client: httpx.AsyncClient, global_id: str
) -> None:
    # the last two: "Kecamatan:61.04.99" (no such region), "Desa:61.04.16" (wrong type)
    body = await execute(client, QUERY_NODE, {"id": global_id})
    assert body == {"data": {"node": None}}


async def test_nested_tree_costs_three_queries_whatever_its_size(
    client: httpx.AsyncClient, sql_log: QueryLog
) -> None:
    # given: the whole country, so Kabupaten Bogor (32.01: 40 kecamatan, 435 desa
    # and kelurahan) is far bigger than Ketapang
    await region_import.import_regions(
        [region_import.bundled_source(region_import.BUNDLED_NATIONAL)]
    )
    sql_log.statements.clear()
    # when
    ketapang = await execute(client, QUERY_KABUPATEN_TREE, {"code": "61.04"})
    ketapang_queries = list(sql_log.statements)
    sql_log.statements.clear()
    bogor = await execute(client, QUERY_KABUPATEN_TREE, {"code": "32.01"})
    bogor_queries = list(sql_log.statements)
    # then
    assert len(ketapang["data"]["region"]["kecamatan"]) == 20
    assert len(bogor["data"]["region"]["kecamatan"]) == 40
    assert len(ketapang_queries) == 3, ketapang_queries
    assert len(bogor_queries) == 3, bogor_queries


async def test_a_regions_page_costs_the_same_queries_at_any_size(
    client: httpx.AsyncClient, sql_log: QueryLog
) -> None:
    # when: a page of 2 and a page of 100, each with every node's parent
    small = await execute(client, QUERY_REGIONS, {"within": "61.04", "first": 2})
    small_queries = list(sql_log.statements)
    sql_log.statements.clear()
    large = await execute(client, QUERY_REGIONS, {"within": "61.04", "first": 100})
    large_queries = list(sql_log.statements)
    # then: existence of `within`, count, page, parents
    assert len(codes(small["data"]["regions"])) == 2
    assert len(codes(large["data"]["regions"])) == 100
    assert len(small_queries) == 4, small_queries
    assert len(large_queries) == 4, large_queries
