"""ADMIN account operations through the API: list, deactivate, reactivate, reset, role.

The rules: docs/operations.md, "Accounts".
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from kimgraph import models
from kimgraph.accounts.principals import Role
from kimgraph.cursors import encode_id
from tests.conftest import execute
from tests.people import Cast, password_hash, snapshot

QUERY_ACCOUNTS = """
query (
  $role: Role, $region: String, $active: Boolean, $first: Int, $after: String
) {
  accounts(
    role: $role, region: $region, active: $active, first: $first, after: $after
  ) {
    totalCount
    edges {
      node { username role active mustChangePassword scope { code } kim { name } }
    }
    pageInfo { hasNextPage endCursor }
  }
}
"""
MUTATION_ACCOUNT_DEACTIVATE = """
mutation ($id: ID!) {
  accountDeactivate(id: $id) {
    account { username active deactivatedAt }
    closedConnections
    userErrors { field code message }
  }
}
"""
MUTATION_ACCOUNT_REACTIVATE = """
mutation ($id: ID!) {
  accountReactivate(id: $id) {
    account { username active deactivatedAt }
    userErrors { field code message }
  }
}
"""
MUTATION_ACCOUNT_PASSWORD_RESET = """
mutation ($id: ID!) {
  accountPasswordReset(id: $id) {
    account { username mustChangePassword }
    oneTimePassword
    closedConnections
    userErrors { field code message }
  }
}
"""
MUTATION_ACCOUNT_ROLE_CHANGE = """
mutation ($id: ID!, $input: AccountRoleChangeInput!) {
  accountRoleChange(id: $id, input: $input) {
    account { username role scope { code } kim { name } }
    closedConnections
    userErrors { field code message }
  }
}
"""
QUERY_ME = "{ me { username role } }"
QUERY_NODE = "query ($id: ID!) { node(id: $id) { ... on Account { username } } }"


async def account_id(username: str) -> str:
    row = await models.Account.get(username=username)
    return encode_id("Account", row.id)


def user_errors(body: dict[str, Any], field: str) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = body["data"][field]["userErrors"]
    return errors


async def test_accounts_lists_the_admins_region_with_filters_and_pages(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    # given: the cast's five accounts, one of them deactivated
    await models.Account.filter(username="kim_padang").update(is_active=False)
    admin = cast.headers["admin"]
    # when
    everyone = await execute(client, QUERY_ACCOUNTS, {"first": 2}, admin)
    rest = await execute(
        client,
        QUERY_ACCOUNTS,
        {"first": 5, "after": everyone["data"]["accounts"]["pageInfo"]["endCursor"]},
        admin,
    )
    kims = await execute(client, QUERY_ACCOUNTS, {"role": "KIM"}, admin)
    inactive = await execute(client, QUERY_ACCOUNTS, {"active": False}, admin)
    delta_pawan = await execute(
        client, QUERY_ACCOUNTS, {"region": "61.04.16", "active": True}, admin
    )
    # then
    names = [
        edge["node"]["username"]
        for page in (everyone, rest)
        for edge in page["data"]["accounts"]["edges"]
    ]
    assert names == [
        "kim_suka_bangun",
        "kim_padang",
        "camat_benua_kayong",
        "camat_delta_pawan",
        "diskominfo",
    ]
    assert everyone["data"]["accounts"]["totalCount"] == 5
    assert everyone["data"]["accounts"]["pageInfo"]["hasNextPage"] is True
    assert rest["data"]["accounts"]["pageInfo"]["hasNextPage"] is False
    assert kims["data"]["accounts"]["edges"] == [
        {
            "node": {
                "username": "kim_suka_bangun",
                "role": "KIM",
                "active": True,
                "mustChangePassword": False,
                "scope": {"code": "61.04.16.2006"},
                "kim": {"name": "KIM Suka Bangun"},
            }
        },
        {
            "node": {
                "username": "kim_padang",
                "role": "KIM",
                "active": False,
                "mustChangePassword": False,
                "scope": {"code": "61.04.18.2003"},
                "kim": {"name": "KIM Padang"},
            }
        },
    ]
    assert [e["node"]["username"] for e in inactive["data"]["accounts"]["edges"]] == [
        "kim_padang"
    ]
    assert [
        e["node"]["username"] for e in delta_pawan["data"]["accounts"]["edges"]
    ] == ["kim_suka_bangun", "camat_delta_pawan"]


async def test_accounts_outside_the_admins_region_are_refused(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    # when
    body = await execute(
        client, QUERY_ACCOUNTS, {"region": "61"}, cast.headers["admin"]
    )
    unknown = await execute(
        client, QUERY_ACCOUNTS, {"region": "61.04.99"}, cast.headers["admin"]
    )
    # then
    assert body["data"] is None
    assert [(e["message"], e["extensions"]["code"]) for e in body["errors"]] == [
        ("region 61 lies outside your region 61.04", "FORBIDDEN")
    ]
    assert [(e["message"], e["extensions"]["code"]) for e in unknown["errors"]] == [
        ("there is no region with code 61.04.99", "NOT_FOUND")
    ]


async def test_node_finds_an_account_for_an_admin_only(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    # given
    variables = {"id": await account_id("camat_delta_pawan")}
    # when
    seen = {
        who: (await execute(client, QUERY_NODE, variables, cast.headers[who]))["data"]
        for who in ("admin", "officer_in_scope", "anonymous")
    }
    # then
    assert seen == {
        "admin": {"node": {"username": "camat_delta_pawan"}},
        "officer_in_scope": {"node": None},
        "anonymous": {"node": None},
    }


async def test_a_deactivated_account_cannot_sign_in_until_reactivated(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    # given
    officer = cast.headers["officer_in_scope"]
    variables = {"id": await account_id("camat_delta_pawan")}
    # when
    deactivated = await execute(
        client, MUTATION_ACCOUNT_DEACTIVATE, variables, cast.headers["admin"]
    )
    refused = await client.post("/graphql", json={"query": QUERY_ME}, headers=officer)
    sign_in = await execute(client, MUTATION_TOKEN_CREATE, SIGN_IN_OFFICER)
    again = await execute(
        client, MUTATION_ACCOUNT_DEACTIVATE, variables, cast.headers["admin"]
    )
    reactivated = await execute(
        client, MUTATION_ACCOUNT_REACTIVATE, variables, cast.headers["admin"]
    )
    old_token = await client.post("/graphql", json={"query": QUERY_ME}, headers=officer)
    signed_in = await execute(client, MUTATION_TOKEN_CREATE, SIGN_IN_OFFICER)
    # then
    assert deactivated == {
        "data": {
            "accountDeactivate": {
                "account": {
                    "username": "camat_delta_pawan",
                    "active": False,
                    "deactivatedAt": "2026-11-28T01:00:00+00:00",
                },
                "closedConnections": 0,
                "userErrors": [],
            }
        }
    }
    assert refused.status_code == 401
    assert refused.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert sign_in["data"]["tokenCreate"]["userErrors"] == [
        {
            "field": None,
            "code": "INVALID_CREDENTIALS",
            "message": "wrong username or password",
        }
    ]
    assert again["data"]["accountDeactivate"]["userErrors"] == []
    assert reactivated == {
        "data": {
            "accountReactivate": {
                "account": {
                    "username": "camat_delta_pawan",
                    "active": True,
                    "deactivatedAt": None,
                },
                "userErrors": [],
            }
        }
    }
    assert old_token.status_code == 401
    assert signed_in["data"]["tokenCreate"]["token"].startswith("kgt_")
    assert (
        await models.AccessToken.filter(
            account__username="camat_delta_pawan", revoked_at=None
        ).count()
        == 1
    )


MUTATION_TOKEN_CREATE = """
mutation ($input: TokenCreateInput!) {
  tokenCreate(input: $input) { token userErrors { field code message } }
}
"""
SIGN_IN_OFFICER = {
    "input": {"username": "camat_delta_pawan", "password": "correct horse battery"}
}


async def test_the_last_active_admin_cannot_be_deactivated_or_demoted(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    # given: diskominfo is the only ADMIN
    admin = cast.headers["admin"]
    me = {"id": await account_id("diskominfo")}
    before = await snapshot()
    # when
    deactivated = await execute(client, MUTATION_ACCOUNT_DEACTIVATE, me, admin)
    demoted = await execute(
        client, MUTATION_ACCOUNT_ROLE_CHANGE, me | {"input": {"role": "OFFICER"}}, admin
    )
    # then
    last: list[dict[str, Any]] = [
        {
            "field": ["id"],
            "code": "INVALID",
            "message": "diskominfo is the last active ADMIN and cannot be "
            "deactivated; make another account ADMIN first",
        }
    ]
    assert user_errors(deactivated, "accountDeactivate") == last
    assert user_errors(demoted, "accountRoleChange") == [
        last[0] | {"message": last[0]["message"].replace("deactivated", "demoted")}
    ]
    assert await snapshot() == before


async def test_an_admin_may_go_once_another_admin_is_active(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    # given: a second ADMIN, deactivated, does not count; once active it does
    second = await models.Account.create(
        username="admin_kedua",
        display_name="Admin Kedua",
        password_hash=password_hash(),
        role=Role.ADMIN,
        region_id="61.04",
        is_active=False,
        created_at=cast.home_kim.created_at,
    )
    admin = cast.headers["admin"]
    me = {"id": await account_id("diskominfo")}
    # when
    refused = await execute(client, MUTATION_ACCOUNT_DEACTIVATE, me, admin)
    await execute(
        client,
        MUTATION_ACCOUNT_REACTIVATE,
        {"id": encode_id("Account", second.id)},
        admin,
    )
    demoted = await execute(
        client,
        MUTATION_ACCOUNT_ROLE_CHANGE,
        me | {"input": {"role": "OFFICER", "region": "61.04.16"}},
        admin,
    )
    after = await client.post("/graphql", json={"query": QUERY_ME}, headers=admin)
    # then
    assert user_errors(refused, "accountDeactivate")[0]["code"] == "INVALID"
    assert demoted == {
        "data": {
            "accountRoleChange": {
                "account": {
                    "username": "diskominfo",
                    "role": "OFFICER",
                    "scope": {"code": "61.04.16"},
                    "kim": None,
                },
                "closedConnections": 0,
                "userErrors": [],
            }
        }
    }
    assert after.status_code == 401  # its tokens were revoked: sign in again


async def test_a_role_change_to_kim_takes_the_kims_region(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    # given
    variables = {
        "id": await account_id("camat_delta_pawan"),
        "input": {"role": "KIM", "kim": encode_id("Kim", cast.home_kim.id)},
    }
    # when
    body = await execute(
        client, MUTATION_ACCOUNT_ROLE_CHANGE, variables, cast.headers["admin"]
    )
    old_token = await client.post(
        "/graphql", json={"query": QUERY_ME}, headers=cast.headers["officer_in_scope"]
    )
    # then
    assert body == {
        "data": {
            "accountRoleChange": {
                "account": {
                    "username": "camat_delta_pawan",
                    "role": "KIM",
                    "scope": {"code": "61.04.16.2006"},
                    "kim": {"name": "KIM Suka Bangun"},
                },
                "closedConnections": 0,
                "userErrors": [],
            }
        }
    }
    assert old_token.status_code == 401


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"role": "KIM"},
            [
                {
                    "field": ["input", "kim"],
                    "code": "INVALID",
                    "message": "a KIM account needs its KIM",
                }
            ],
        ),
        (
            {"role": "KIM", "kim": encode_id("Kim", 999)},
            [
                {
                    "field": ["input", "kim"],
                    "code": "NOT_FOUND",
                    "message": "there is no such KIM",
                }
            ],
        ),
        (
            {"role": "PARTNER"},
            [
                {
                    "field": ["input", "role"],
                    "code": "INVALID",
                    "message": "accounts cannot have role PARTNER",
                }
            ],
        ),
        (
            {"region": "61"},
            [
                {
                    "field": ["input", "region"],
                    "code": "OUT_OF_SCOPE",
                    "message": "region 61 lies outside your region 61.04",
                }
            ],
        ),
        (
            {"region": "61.04.99"},
            [
                {
                    "field": ["input", "region"],
                    "code": "NOT_FOUND",
                    "message": "there is no region with code 61.04.99",
                }
            ],
        ),
        (
            {"role": "OFFICER", "kim": encode_id("Kim", 1)},
            [
                {
                    "field": ["input", "kim"],
                    "code": "INVALID",
                    "message": "only a KIM account is linked to a KIM",
                }
            ],
        ),
    ],
)
async def test_a_bad_role_change_says_why_and_changes_nothing(
    client: httpx.AsyncClient,
    cast: Cast,
    change: dict[str, Any],
    expected: list[dict[str, Any]],
) -> None:
    # given
    variables = {"id": await account_id("camat_delta_pawan"), "input": change}
    before = await snapshot()
    # when
    body = await execute(
        client, MUTATION_ACCOUNT_ROLE_CHANGE, variables, cast.headers["admin"]
    )
    # then
    assert body == {
        "data": {
            "accountRoleChange": {
                "account": None,
                "closedConnections": 0,
                "userErrors": expected,
            }
        }
    }
    assert await snapshot() == before


async def test_an_unknown_account_id_is_not_found(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    # when
    bodies = [
        await execute(
            client, MUTATION_ACCOUNT_REACTIVATE, {"id": id_}, cast.headers["admin"]
        )
        for id_ in (encode_id("Account", 999), encode_id("Kim", cast.home_kim.id), "x")
    ]
    # then
    assert [user_errors(b, "accountReactivate") for b in bodies] == [
        [{"field": ["id"], "code": "NOT_FOUND", "message": "there is no such account"}]
    ] * 3
