"""Accounts, tokens and API keys: creation rules, sign-in, expiry, revocation."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from kimgraph import models
from kimgraph.accounts import api_keys, auth
from kimgraph.accounts.principals import Role
from kimgraph.clock import FixedClock
from kimgraph.errors import Problem, ProblemCode, UserInputError
from tests.conftest import PRODUCTION_DUMMY_HASH, PRODUCTION_HASHER, execute
from tests.people import PASSWORD, Cast, snapshot

MUTATION_TOKEN_CREATE = """
mutation ($input: TokenCreateInput!) {
  tokenCreate(input: $input) { token expiresAt userErrors { field code message } }
}
"""
MUTATION_TOKEN_REVOKE = "mutation { tokenRevoke { revoked closedConnections } }"
QUERY_ME = "{ me { username role } }"


async def test_account_rules_are_all_reported(ketapang: str, clock: FixedClock) -> None:
    # given
    await auth.create_account(
        clock, username="taken", password=PASSWORD, role=Role.ADMIN, region_code="61.04"
    )
    # when
    with pytest.raises(UserInputError) as caught:
        await auth.create_account(
            clock,
            username="taken",
            password="short",
            role=Role.OFFICER,
            region_code="61.04.99",
            kim_id=7,
        )
    # then
    assert caught.value.problems == [
        Problem(ProblemCode.INVALID, "username 'taken' is taken", ["username"]),
        Problem(
            ProblemCode.INVALID,
            "password must have at least 10 characters",
            ["password"],
        ),
        Problem(ProblemCode.INVALID, "only a KIM account is linked to a KIM", ["kim"]),
        Problem(
            ProblemCode.NOT_FOUND, "there is no region with code 61.04.99", ["region"]
        ),
    ]
    assert await models.Account.all().count() == 1


async def test_a_kim_account_takes_its_kims_region(
    client: httpx.AsyncClient, cast: Cast, clock: FixedClock
) -> None:
    account = await auth.create_account(
        clock,
        username="kim.suka.bangun",
        password=PASSWORD,
        role=Role.KIM,
        region_code=None,
        kim_id=cast.home_kim.id,
    )
    assert (account.region_id, account.kim_id) == ("61.04.16.2006", cast.home_kim.id)


async def test_passwords_are_stored_as_argon2id(
    ketapang: str, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: the server's own parameters (other tests hash cheaply: conftest.py)
    monkeypatch.setattr(auth, "_hasher", PRODUCTION_HASHER)
    account = await auth.create_account(
        clock, username="admin", password=PASSWORD, role=Role.ADMIN, region_code="61.04"
    )
    stored = (await models.Account.get(id=account.id)).password_hash
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert PASSWORD not in stored


def test_an_unknown_username_is_checked_against_a_hash_as_costly_as_a_password() -> (
    None
):
    # the stored hash a sign-in with an unknown username verifies against has the
    # server's own parameters (a change of them must make it anew)
    assert PRODUCTION_DUMMY_HASH.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert PRODUCTION_HASHER.check_needs_rehash(PRODUCTION_DUMMY_HASH) is False
    assert PRODUCTION_HASHER.verify(PRODUCTION_DUMMY_HASH, "unknown username") is True


async def test_sign_in_returns_a_token_that_expires_in_12_hours(
    client: httpx.AsyncClient, clock: FixedClock
) -> None:
    # given
    await auth.create_account(
        clock, username="admin", password=PASSWORD, role=Role.ADMIN, region_code="61.04"
    )
    # when
    body = await execute(
        client,
        MUTATION_TOKEN_CREATE,
        {"input": {"username": "admin", "password": PASSWORD}},
    )
    # then
    created = body["data"]["tokenCreate"]
    assert created["token"].startswith("kgt_")
    assert created["expiresAt"] == "2026-11-28T13:00:00+00:00"
    assert created["userErrors"] == []
    headers = {"authorization": f"Bearer {created['token']}"}
    assert await execute(client, QUERY_ME, headers=headers) == {
        "data": {"me": {"username": "admin", "role": "ADMIN"}}
    }
    stored = await models.AccessToken.get()
    assert stored.token_hash == auth.digest(created["token"])
    # when: 12 hours pass
    clock.advance(timedelta(hours=12))
    expired = await client.post("/graphql", json={"query": QUERY_ME}, headers=headers)
    # then
    assert expired.status_code == 401
    assert expired.json() == {
        "data": None,
        "errors": [
            {
                "message": "the token has expired; sign in again",
                "extensions": {"code": "UNAUTHENTICATED"},
            }
        ],
    }


@pytest.mark.parametrize(
    ("username", "password"),
    [("admin", "wrong password"), ("nobody", PASSWORD), ("ADMIN", PASSWORD)],
)
async def test_wrong_credentials_issue_nothing(
    client: httpx.AsyncClient, clock: FixedClock, username: str, password: str
) -> None:
    await auth.create_account(
        clock, username="admin", password=PASSWORD, role=Role.ADMIN, region_code="61.04"
    )
    body = await execute(
        client,
        MUTATION_TOKEN_CREATE,
        {"input": {"username": username, "password": password}},
    )
    assert body["data"]["tokenCreate"] == {
        "token": None,
        "expiresAt": None,
        "userErrors": [
            {
                "field": None,
                "code": "INVALID_CREDENTIALS",
                "message": "wrong username or password",
            }
        ],
    }
    assert await models.AccessToken.all().count() == 0


async def test_a_revoked_token_stops_working_on_the_next_request(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    # given
    headers = cast.headers["officer_in_scope"]
    # when
    revoked = await execute(client, MUTATION_TOKEN_REVOKE, headers=headers)
    after = await client.post("/graphql", json={"query": QUERY_ME}, headers=headers)
    # then
    assert revoked == {
        "data": {"tokenRevoke": {"revoked": True, "closedConnections": 0}}
    }
    assert after.status_code == 401
    assert after.json()["errors"][0] == {
        "message": "the token is unknown or revoked; sign in again",
        "extensions": {"code": "UNAUTHENTICATED"},
    }
    other = await execute(client, QUERY_ME, headers=cast.headers["admin"])
    assert other == {"data": {"me": {"username": "diskominfo", "role": "ADMIN"}}}


async def test_a_revoked_api_key_stops_working_on_the_next_request(
    client: httpx.AsyncClient, cast: Cast, clock: FixedClock
) -> None:
    # given
    headers = cast.headers["partner"]
    assert (
        await client.post("/graphql", json={"query": QUERY_ME}, headers=headers)
    ).status_code == 200
    key = await models.ApiKey.get()
    # when
    await api_keys.revoke_api_key(clock, key.id)
    after = await client.post("/graphql", json={"query": QUERY_ME}, headers=headers)
    # then
    assert after.status_code == 401
    assert after.json()["errors"][0]["message"] == "the API key is unknown or revoked"


@pytest.mark.parametrize(
    ("authorization", "message"),
    [
        (
            "Basic dXNlcjpwYXNz",
            "credentials must be given as 'Bearer <token or API key>'",
        ),
        ("Bearer", "credentials must be given as 'Bearer <token or API key>'"),
        ("Bearer abc", "the bearer credential is not a KIMgraph token or API key"),
        ("Bearer kgt_forged", "the token is unknown or revoked; sign in again"),
        ("bearer kgk_forged", "the API key is unknown or revoked"),
    ],
)
async def test_bad_credentials_get_401_and_change_nothing(
    client: httpx.AsyncClient, cast: Cast, authorization: str, message: str
) -> None:
    before = await snapshot()
    response = await client.post(
        "/graphql",
        json={"query": "mutation { tokenRevoke { revoked } }"},
        headers={"authorization": authorization},
    )
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="kimgraph"'
    assert response.json()["errors"][0]["message"] == message
    assert await snapshot() == before


async def test_api_keys_are_listed_without_the_key(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    body = await execute(
        client,
        "{ apiKeys { name prefix revokedAt region { code } } }",
        headers=cast.headers["admin"],
    )
    key = await models.ApiKey.get()
    assert body == {
        "data": {
            "apiKeys": [
                {
                    "name": "Aplikasi Layanan Publik",
                    "prefix": key.prefix,
                    "revokedAt": None,
                    "region": {"code": "61.04"},
                }
            ]
        }
    }
    assert len(key.prefix) == 10
    assert key.prefix in cast.headers["partner"]["authorization"]
