"""Password reset by an ADMIN and accountPasswordChange by the owner.

A reset password only sets a new one: docs/operations.md, "Accounts".
"""

from __future__ import annotations

from typing import Any

import httpx

from kimgraph import models
from kimgraph.cursors import encode_id
from tests.conftest import execute
from tests.people import PASSWORD, Cast, snapshot
from tests.resolvers.accounts.test_account_admin import (
    MUTATION_ACCOUNT_PASSWORD_RESET,
    MUTATION_TOKEN_CREATE,
    QUERY_ME,
)

MUTATION_ACCOUNT_PASSWORD_CHANGE = """
mutation ($input: AccountPasswordChangeInput!) {
  accountPasswordChange(input: $input) {
    token expiresAt userErrors { field code message }
  }
}
"""
USERNAME = "camat_delta_pawan"
NEW_PASSWORD = "sungai pawan mengalir"


def sign_in(password: str) -> dict[str, Any]:
    return {"input": {"username": USERNAME, "password": password}}


def change(current: str, new: str, username: str | None = None) -> dict[str, Any]:
    fields = {"currentPassword": current, "newPassword": new}
    return {"input": fields | ({"username": username} if username else {})}


async def test_a_reset_password_only_sets_a_new_one(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    # given
    officer = cast.headers["officer_in_scope"]
    target = await models.Account.get(username=USERNAME)
    # when: an admin resets the password
    reset = await execute(
        client,
        MUTATION_ACCOUNT_PASSWORD_RESET,
        {"id": encode_id("Account", target.id)},
        cast.headers["admin"],
    )
    one_time = reset["data"]["accountPasswordReset"]["oneTimePassword"]
    old_token = await client.post("/graphql", json={"query": QUERY_ME}, headers=officer)
    old_password = await execute(client, MUTATION_TOKEN_CREATE, sign_in(PASSWORD))
    with_one_time = await execute(client, MUTATION_TOKEN_CREATE, sign_in(one_time))
    # and the owner sets a new one, not signed in
    changed = await execute(
        client,
        MUTATION_ACCOUNT_PASSWORD_CHANGE,
        change(one_time, NEW_PASSWORD, USERNAME),
    )
    token = changed["data"]["accountPasswordChange"]["token"]
    me = await execute(client, QUERY_ME, headers={"authorization": f"Bearer {token}"})
    one_time_again = await execute(client, MUTATION_TOKEN_CREATE, sign_in(one_time))
    signed_in = await execute(client, MUTATION_TOKEN_CREATE, sign_in(NEW_PASSWORD))
    # then
    assert reset["data"]["accountPasswordReset"] | {"oneTimePassword": "…"} == {
        "account": {"username": USERNAME, "mustChangePassword": True},
        "oneTimePassword": "…",
        "closedConnections": 0,
        "userErrors": [],
    }
    assert len(one_time) == 22
    assert old_token.status_code == 401
    assert old_password["data"]["tokenCreate"] == {
        "token": None,
        "userErrors": [
            {
                "field": None,
                "code": "INVALID_CREDENTIALS",
                "message": "wrong username or password",
            }
        ],
    }
    assert with_one_time["data"]["tokenCreate"] == {
        "token": None,
        "userErrors": [
            {
                "field": ["input", "password"],
                "code": "PASSWORD_CHANGE_REQUIRED",
                "message": "this password was reset and works only to set a new "
                "one: call accountPasswordChange with it as currentPassword",
            }
        ],
    }
    assert changed["data"]["accountPasswordChange"]["userErrors"] == []
    assert changed["data"]["accountPasswordChange"]["expiresAt"] == (
        "2026-11-28T13:00:00+00:00"
    )
    assert me == {"data": {"me": {"username": USERNAME, "role": "OFFICER"}}}
    assert one_time_again["data"]["tokenCreate"]["userErrors"][0]["code"] == (
        "INVALID_CREDENTIALS"
    )
    assert signed_in["data"]["tokenCreate"]["token"].startswith("kgt_")
    assert not (await models.Account.get(username=USERNAME)).must_change_password


async def test_a_signed_in_owner_changes_its_password_and_gets_a_new_token(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    # given
    officer = cast.headers["officer_in_scope"]
    # when
    body = await execute(
        client,
        MUTATION_ACCOUNT_PASSWORD_CHANGE,
        change(PASSWORD, NEW_PASSWORD),
        officer,
    )
    old_token = await client.post("/graphql", json={"query": QUERY_ME}, headers=officer)
    new_token = body["data"]["accountPasswordChange"]["token"]
    me = await execute(
        client, QUERY_ME, headers={"authorization": f"Bearer {new_token}"}
    )
    # then
    assert body["data"]["accountPasswordChange"]["userErrors"] == []
    assert old_token.status_code == 401
    assert me == {"data": {"me": {"username": USERNAME, "role": "OFFICER"}}}


async def test_a_bad_password_change_says_why_and_changes_nothing(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    # given
    officer = cast.headers["officer_in_scope"]
    cases = [
        (change("salah sekali ya", NEW_PASSWORD), officer),
        (change(PASSWORD, "pendek"), officer),
        (change(PASSWORD, PASSWORD), officer),
        (change(PASSWORD, NEW_PASSWORD, "diskominfo"), officer),
        (change(PASSWORD, NEW_PASSWORD), {}),
        (change(PASSWORD, NEW_PASSWORD, "tidak_ada"), {}),
    ]
    before = await snapshot()
    # when
    bodies = [
        await execute(client, MUTATION_ACCOUNT_PASSWORD_CHANGE, variables, headers)
        for variables, headers in cases
    ]
    # then
    assert [b["data"]["accountPasswordChange"]["userErrors"] for b in bodies] == [
        [
            {
                "field": ["input", "currentPassword"],
                "code": "INVALID_CREDENTIALS",
                "message": "wrong username or password",
            }
        ],
        [
            {
                "field": ["input", "newPassword"],
                "code": "INVALID",
                "message": "password must have at least 10 characters",
            }
        ],
        [
            {
                "field": ["input", "newPassword"],
                "code": "INVALID",
                "message": "the new password must differ from the current one",
            }
        ],
        [
            {
                "field": ["input", "username"],
                "code": "INVALID",
                "message": "signed in, you may change only your own password",
            }
        ],
        [
            {
                "field": ["input", "username"],
                "code": "INVALID",
                "message": "give the username, or sign in to change your own password",
            }
        ],
        [
            {
                "field": ["input", "currentPassword"],
                "code": "INVALID_CREDENTIALS",
                "message": "wrong username or password",
            }
        ],
    ]
    assert all(b["data"]["accountPasswordChange"]["token"] is None for b in bodies)
    assert await snapshot() == before


async def test_password_changes_are_counted_like_sign_ins(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    # given: ten wrong current passwords from one address spend its allowance
    # for this username (kimgraph/accounts/sign_in.py, PER_USERNAME_AND_ADDRESS)
    wrong = change("tebakan salah", NEW_PASSWORD, USERNAME)
    for _ in range(10):
        body = await execute(client, MUTATION_ACCOUNT_PASSWORD_CHANGE, wrong)
        assert body["data"]["accountPasswordChange"]["userErrors"][0]["code"] == (
            "INVALID_CREDENTIALS"
        )
    before = await snapshot()
    # when: the right password, and a sign-in, from the same address
    right = await client.post(
        "/graphql",
        json={
            "query": MUTATION_ACCOUNT_PASSWORD_CHANGE,
            "variables": change(PASSWORD, NEW_PASSWORD, USERNAME),
        },
    )
    sign_in_after = await client.post(
        "/graphql",
        json={"query": MUTATION_TOKEN_CREATE, "variables": sign_in(PASSWORD)},
    )
    # then
    assert right.status_code == 429
    assert right.json()["data"]["accountPasswordChange"]["userErrors"] == [
        {
            "field": None,
            "code": "RATE_LIMITED",
            "message": "too many failed sign-ins; try again in 2 minute(s)",
        }
    ]
    assert sign_in_after.status_code == 429
    assert await snapshot() == before
