"""The KIM registry: register, update, members, lists and their rules."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from kimgraph import models
from kimgraph.cursors import encode_id
from tests.conftest import QueryLog, execute
from tests.people import HOME_MEMBER, Cast, officers_input, snapshot

KIM_FIELDS = """
  name decreeNumber establishedOn region { code name }
  members { name role }
"""
MUTATION_KIM_REGISTER = f"""
mutation ($input: KimRegisterInput!) {{
  kimRegister(input: $input) {{
    kim {{ {KIM_FIELDS} }}
    userErrors {{ field code message }}
  }}
}}
"""
MUTATION_KIM_UPDATE = f"""
mutation ($id: ID!, $input: KimUpdateInput!) {{
  kimUpdate(id: $id, input: $input) {{
    kim {{ {KIM_FIELDS} }}
    userErrors {{ field code message }}
  }}
}}
"""
MUTATION_KIM_MEMBER_ADD = """
mutation ($kimId: ID!, $input: KimMemberInput!) {
  kimMemberAdd(kimId: $kimId, input: $input) {
    kim { members { name role } }
    member { name role }
    userErrors { field code message }
  }
}
"""
MUTATION_KIM_MEMBER_REMOVE = """
mutation ($id: ID!) {
  kimMemberRemove(id: $id) {
    kim { members { name role } }
    userErrors { field code message }
  }
}
"""
QUERY_KIMS = """
query ($region: String, $first: Int, $after: String) {
  kims(region: $region, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { name region { code } } }
  }
}
"""
QUERY_KIMS_PER_KECAMATAN = """
{
  region(code: "61.04") {
    ... on Kabupaten {
      kecamatan {
        code
        kims { totalCount edges { node { name members { name } } } }
      }
    }
  }
}
"""
# The cast's home KIM, as `members` lists it: offices in order, then anggota.
HOME_MEMBERS = [
    {"name": "Siti Aminah", "role": "KETUA"},
    {"name": "Yusuf Hamdani", "role": "SEKRETARIS"},
    {"name": "Nur Aini", "role": "BENDAHARA"},
    {"name": HOME_MEMBER, "role": "ANGGOTA"},
]


def kim_id(kim: models.Kim) -> str:
    return encode_id("Kim", str(kim.id))


async def test_an_officer_registers_a_kim_with_its_members(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    # when
    body = await execute(
        client,
        MUTATION_KIM_REGISTER,
        {
            "input": {
                "name": "  KIM   Kali Nilam ",
                "region": "61.04.16.2007",
                "decreeNumber": "470/12/2019",
                "establishedOn": "2019-03-01",
                "members": [
                    {"name": "Ahmad Yani", "role": "ANGGOTA"},
                    {"name": "Dewi Sartika", "role": "KETUA"},
                    {"name": "Rahmat", "role": "BENDAHARA"},
                    {"name": "Wulan", "role": "SEKRETARIS"},
                ],
            }
        },
        cast.headers["officer_in_scope"],
    )
    # then
    assert body == {
        "data": {
            "kimRegister": {
                "kim": {
                    "name": "KIM Kali Nilam",
                    "decreeNumber": "470/12/2019",
                    "establishedOn": "2019-03-01",
                    "region": {"code": "61.04.16.2007", "name": "Kali Nilam"},
                    "members": [
                        {"name": "Dewi Sartika", "role": "KETUA"},
                        {"name": "Wulan", "role": "SEKRETARIS"},
                        {"name": "Rahmat", "role": "BENDAHARA"},
                        {"name": "Ahmad Yani", "role": "ANGGOTA"},
                    ],
                },
                "userErrors": [],
            }
        }
    }
    assert await models.Kim.filter(region_id="61.04.16.2007").count() == 1


async def test_every_bad_field_is_reported_and_nothing_is_registered(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    # given
    before = await snapshot()
    # when: the clock says 2026-11-28; a kecamatan may have a KIM
    body = await execute(
        client,
        MUTATION_KIM_REGISTER,
        {
            "input": {
                "name": " ",
                "region": "61.04.16",
                "decreeNumber": "x" * 101,
                "establishedOn": "2026-11-29",
                "members": [
                    {"name": "Satu", "role": "KETUA"},
                    {"name": "", "role": "KETUA"},
                ],
            }
        },
        cast.headers["admin"],
    )
    # then
    assert body["data"]["kimRegister"] == {
        "kim": None,
        "userErrors": [
            {
                "field": ["input", "name"],
                "code": "INVALID",
                "message": "must have 1-200 characters",
            },
            {
                "field": ["input", "decreeNumber"],
                "code": "INVALID",
                "message": "must have at most 100 characters",
            },
            {
                "field": ["input", "establishedOn"],
                "code": "INVALID",
                "message": "cannot lie in the future",
            },
            {
                "field": ["input", "members", "1", "name"],
                "code": "INVALID",
                "message": "must have 1-200 characters",
            },
            {
                "field": ["input", "members"],
                "code": "INVALID",
                "message": "a KIM needs a sekretaris among its members",
            },
            {
                "field": ["input", "members"],
                "code": "INVALID",
                "message": "a KIM needs a bendahara among its members",
            },
            {
                "field": ["input", "members"],
                "code": "INVALID",
                "message": "a KIM has at most one ketua",
            },
        ],
    }
    assert await snapshot() == before


async def test_a_kim_serves_a_desa_kelurahan_or_kecamatan_only(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    body = await execute(
        client,
        MUTATION_KIM_REGISTER,
        {
            "input": {
                "name": "KIM Kabupaten",
                "region": "61.04",
                "members": officers_input("Kabupaten"),
            }
        },
        cast.headers["admin"],
    )
    assert body["data"]["kimRegister"]["userErrors"] == [
        {
            "field": ["input", "region"],
            "code": "INVALID",
            "message": "a KIM serves a desa, kelurahan or kecamatan, not a kabupaten",
        }
    ]


@pytest.mark.parametrize(
    ("region", "expected"),
    [
        (
            "61.04.16.2999",
            {
                "data": {
                    "kimRegister": {
                        "kim": None,
                        "userErrors": [
                            {
                                "field": ["input", "region"],
                                "code": "NOT_FOUND",
                                "message": "there is no region with code 61.04.16.2999",
                            }
                        ],
                    }
                }
            },
        ),
        (
            "61.04.1",
            {
                "data": None,
                "errors": [
                    {
                        "message": "'61.04.1' is not a Kemendagri region code: "
                        "expected the dotted form, e.g. '61', '61.04', '61.04.16' "
                        "or '61.04.16.1001'",
                        "locations": [{"line": 3, "column": 3}],
                        "path": ["kimRegister"],
                        "extensions": {"code": "INVALID_REGION_CODE"},
                    }
                ],
            },
        ),
    ],
)
async def test_unknown_and_malformed_regions_are_refused(
    client: httpx.AsyncClient, cast: Cast, region: str, expected: dict[str, Any]
) -> None:
    before = await snapshot()
    body = await execute(
        client,
        MUTATION_KIM_REGISTER,
        {"input": {"name": "KIM Baru", "region": region}},
        cast.headers["admin"],
    )
    assert body == expected
    assert await snapshot() == before


async def test_two_kim_of_one_name_cannot_serve_one_region(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    before = await snapshot()
    body = await execute(
        client,
        MUTATION_KIM_REGISTER,
        {
            "input": {
                "name": "KIM Suka Bangun",
                "region": "61.04.16.2006",
                "members": officers_input("Suka Bangun"),
            }
        },
        cast.headers["admin"],
    )
    assert body["data"]["kimRegister"]["userErrors"] == [
        {
            "field": ["input", "name"],
            "code": "INVALID",
            "message": "a KIM named 'KIM Suka Bangun' already serves this region",
        }
    ]
    assert await snapshot() == before


async def test_update_changes_given_fields_and_clears_nulls(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    # when
    body = await execute(
        client,
        MUTATION_KIM_UPDATE,
        {
            "id": kim_id(cast.home_kim),
            "input": {"name": "KIM Suka Bangun Jaya", "decreeNumber": None},
        },
        cast.headers["officer_in_scope"],
    )
    # then
    assert body["data"]["kimUpdate"] == {
        "kim": {
            "name": "KIM Suka Bangun Jaya",
            "decreeNumber": None,
            "establishedOn": "2018-05-02",
            "region": {"code": "61.04.16.2006", "name": "Suka Bangun"},
            "members": HOME_MEMBERS,
        },
        "userErrors": [],
    }


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        (
            {"input": {"name": None}},
            [
                {
                    "field": ["input", "name"],
                    "code": "INVALID",
                    "message": "must have 1-200 characters",
                }
            ],
        ),
        (
            {"id": "S2ltOjk5OTk", "input": {"name": "X"}},  # Kim:9999
            [{"field": ["id"], "code": "NOT_FOUND", "message": "there is no such KIM"}],
        ),
        (
            {"id": "not an id", "input": {"name": "X"}},
            [{"field": ["id"], "code": "NOT_FOUND", "message": "there is no such KIM"}],
        ),
    ],
)
async def test_bad_updates_change_nothing(
    client: httpx.AsyncClient,
    cast: Cast,
    variables: dict[str, Any],
    expected: list[dict[str, Any]],
) -> None:
    before = await snapshot()
    body = await execute(
        client,
        MUTATION_KIM_UPDATE,
        {"id": kim_id(cast.home_kim), **variables},
        cast.headers["admin"],
    )
    assert body["data"]["kimUpdate"] == {"kim": None, "userErrors": expected}
    assert await snapshot() == before


async def test_members_are_added_and_removed(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    # when
    added = await execute(
        client,
        MUTATION_KIM_MEMBER_ADD,
        {
            "kimId": kim_id(cast.home_kim),
            "input": {"name": "Rudi", "role": "SEKRETARIS"},
        },
        cast.headers["admin"],
    )
    removed = await execute(
        client,
        MUTATION_KIM_MEMBER_REMOVE,
        {"id": encode_id("KimMember", str(cast.home_member.id))},
        cast.headers["admin"],
    )
    # then
    assert added["data"]["kimMemberAdd"] == {
        "kim": {
            "members": [
                *HOME_MEMBERS[:2],
                {"name": "Rudi", "role": "SEKRETARIS"},
                *HOME_MEMBERS[2:],
            ]
        },
        "member": {"name": "Rudi", "role": "SEKRETARIS"},
        "userErrors": [],
    }
    assert removed["data"]["kimMemberRemove"] == {
        "kim": {
            "members": [
                *HOME_MEMBERS[:2],
                {"name": "Rudi", "role": "SEKRETARIS"},
                HOME_MEMBERS[2],
            ]
        },
        "userErrors": [],
    }


async def test_a_second_ketua_is_refused(client: httpx.AsyncClient, cast: Cast) -> None:
    before = await snapshot()
    body = await execute(
        client,
        MUTATION_KIM_MEMBER_ADD,
        {"kimId": kim_id(cast.home_kim), "input": {"name": "Budi", "role": "KETUA"}},
        cast.headers["admin"],
    )
    assert body["data"]["kimMemberAdd"] == {
        "kim": None,
        "member": None,
        "userErrors": [
            {
                "field": ["input", "role"],
                "code": "INVALID",
                "message": "this KIM already has a ketua",
            }
        ],
    }
    assert await snapshot() == before


async def test_concurrent_ketua_additions_leave_exactly_one_ketua(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    # given: a KIM registered before the offices were required, without a ketua
    kim = await models.Kim.create(
        name="KIM Lama",
        region_id="61.04.16.2007",
        created_at=cast.home_kim.created_at,
        updated_at=cast.home_kim.updated_at,
    )
    # when: five officers add a ketua at once
    bodies = await asyncio.gather(
        *(
            execute(
                client,
                MUTATION_KIM_MEMBER_ADD,
                {
                    "kimId": kim_id(kim),
                    "input": {"name": f"Ketua {n}", "role": "KETUA"},
                },
                cast.headers["admin"],
            )
            for n in range(5)
        )
    )
    # then
    results = [body["data"]["kimMemberAdd"] for body in bodies]
    assert sum(1 for r in results if r["userErrors"] == []) == 1
    assert sum(1 for r in results if r["userErrors"] != []) == 4
    assert await models.KimMember.filter(kim_id=kim.id, role="KETUA").count() == 1


async def test_kims_lists_a_subtree_in_pages(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    # when
    everything = await execute(client, QUERY_KIMS, {"first": 1})
    page = everything["data"]["kims"]
    rest = await execute(
        client, QUERY_KIMS, {"first": 1, "after": page["pageInfo"]["endCursor"]}
    )
    home = await execute(client, QUERY_KIMS, {"region": "61.04.16"})
    # then
    assert page["totalCount"] == 2
    assert [e["node"] for e in page["edges"]] == [
        {"name": "KIM Suka Bangun", "region": {"code": "61.04.16.2006"}}
    ]
    assert page["pageInfo"]["hasNextPage"] is True
    assert rest["data"]["kims"]["edges"] == [
        {"node": {"name": "KIM Padang", "region": {"code": "61.04.18.2003"}}}
    ]
    assert rest["data"]["kims"]["pageInfo"]["hasNextPage"] is False
    assert [e["node"]["name"] for e in home["data"]["kims"]["edges"]] == [
        "KIM Suka Bangun"
    ]


async def test_kims_in_an_unknown_region_is_not_found(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    body = await execute(client, QUERY_KIMS, {"region": "61.04.99"})
    assert [e["extensions"]["code"] for e in body["errors"]] == ["NOT_FOUND"]


async def test_kims_per_kecamatan_cost_constant_queries(
    client: httpx.AsyncClient, cast: Cast, sql_log: QueryLog
) -> None:
    # when
    body = await execute(client, QUERY_KIMS_PER_KECAMATAN)
    # then: region, its children, the KIM of all 20 kecamatan, their members
    counts = {
        k["code"]: k["kims"]["totalCount"] for k in body["data"]["region"]["kecamatan"]
    }
    assert counts["61.04.16"] == 1
    assert counts["61.04.18"] == 1
    assert sum(counts.values()) == 2
    assert len(sql_log.statements) == 4, sql_log.statements


async def test_node_finds_a_kim(client: httpx.AsyncClient, cast: Cast) -> None:
    body = await execute(
        client,
        "query ($id: ID!) { node(id: $id) { ... on Kim { name } } }",
        {"id": kim_id(cast.home_kim)},
    )
    assert body == {"data": {"node": {"name": "KIM Suka Bangun"}}}
