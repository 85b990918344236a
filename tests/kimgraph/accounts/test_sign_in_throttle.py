"""The sign-in throttle over HTTP: counted before the check, no lock-out, 429.

Issue 17, items 2 and 3 (docs/domain.md, "Limits"). Each client is an
httpx.ASGITransport with its own address, all on one app, so the limits are
the app's own; password checks are counted by wrapping auth.verify_password.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from kimgraph import models
from kimgraph.accounts import auth
from kimgraph.accounts.principals import Role
from kimgraph.app import create_app
from kimgraph.clock import FixedClock
from kimgraph.settings import Settings
from tests.kimgraph.live.sockets import until
from tests.people import PASSWORD

MUTATION = """
mutation ($input: TokenCreateInput!) {
  tokenCreate(input: $input) { token expiresAt userErrors { field code message } }
}
"""
WRONG = "tebakan salah"
DEADLINE_S = 60.0


class Checks:
    """auth.verify_password, counted, optionally held at a gate."""

    def __init__(self, real: Callable[[str, str], Awaitable[bool]]) -> None:
        self.real = real
        self.entered: list[str] = []
        self.gate: asyncio.Event | None = None

    async def __call__(self, password_hash: str, password: str) -> bool:
        self.entered.append(password)
        if self.gate is not None:
            await asyncio.wait_for(self.gate.wait(), DEADLINE_S)
        return await self.real(password_hash, password)


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> Checks:
    counted = Checks(auth.verify_password)
    monkeypatch.setattr(auth, "verify_password", counted)
    return counted


@pytest.fixture
async def app(ketapang: str, clock: FixedClock) -> Starlette:
    await auth.create_account(
        clock, username="admin", password=PASSWORD, role=Role.ADMIN, region_code="61.04"
    )
    return create_app(Settings(database_url=ketapang), clock=clock)


def at(app: Starlette, address: str) -> httpx.AsyncClient:
    """A client of app whose requests come from address."""
    transport = httpx.ASGITransport(app=app, client=(address, 40_000))
    return httpx.AsyncClient(transport=transport, base_url="http://test")


async def sign_in(
    client: httpx.AsyncClient, password: str, username: str = "admin"
) -> httpx.Response:
    variables = {"input": {"username": username, "password": password}}
    return await client.post(
        "/graphql", json={"query": MUTATION, "variables": variables}
    )


def outcome(response: httpx.Response) -> tuple[int, str]:
    """The status and "TOKEN" or the userError's code."""
    payload: dict[str, Any] = response.json()["data"]["tokenCreate"]
    if payload["token"] is not None:
        assert payload["token"].startswith("kgt_")
        return response.status_code, "TOKEN"
    (error,) = payload["userErrors"]
    return response.status_code, error["code"]


def refused(minutes: int) -> dict[str, Any]:
    return {
        "data": {
            "tokenCreate": {
                "token": None,
                "expiresAt": None,
                "userErrors": [
                    {
                        "field": None,
                        "code": "RATE_LIMITED",
                        "message": "too many failed sign-ins; try again in "
                        f"{minutes} minute(s)",
                    }
                ],
            }
        }
    }


async def test_150_concurrent_wrong_passwords_get_10_checks_and_429s(
    app: Starlette, checks: Checks
) -> None:
    # when: 150 wrong passwords at once from one address
    async with at(app, "203.0.113.7") as client:
        responses = await asyncio.gather(*(sign_in(client, WRONG) for _ in range(150)))
    # then: ten were checked, the rest refused before any check
    outcomes = [outcome(response) for response in responses]
    assert sorted(set(outcomes)) == [
        (200, "INVALID_CREDENTIALS"),
        (429, "RATE_LIMITED"),
    ]
    assert outcomes.count((200, "INVALID_CREDENTIALS")) == 10
    assert len(checks.entered) == 10
    for response in responses:
        if response.status_code == 429:
            assert response.json() == refused(2)
            assert response.headers["retry-after"] == "90"
    assert await models.AccessToken.all().count() == 0


async def test_the_right_password_amid_60_wrong_ones_waits_once_the_limit_is_spent(
    app: Starlette, checks: Checks
) -> None:
    # given: ten wrong passwords from one address being checked (held at a gate)
    checks.gate = asyncio.Event()
    async with at(app, "203.0.113.7") as client:
        first = [asyncio.create_task(sign_in(client, WRONG)) for _ in range(10)]
        await until(lambda: len(checks.entered) == 10, DEADLINE_S)
        # when: fifty more and the right one arrive while those are checked
        rest = [asyncio.create_task(sign_in(client, WRONG)) for _ in range(50)]
        right = asyncio.create_task(sign_in(client, PASSWORD))
        later = [*rest, right]
        await until(
            lambda: len(checks.entered) + sum(t.done() for t in later) == 61,
            DEADLINE_S,
        )
        checks.gate.set()
        await asyncio.gather(*first, *later)
    # then: only the first ten were checked; the right one was refused too
    assert len(checks.entered) == 10
    assert outcome(right.result()) == (429, "RATE_LIMITED")
    assert {outcome(t.result()) for t in first} == {(200, "INVALID_CREDENTIALS")}
    assert {outcome(t.result()) for t in rest} == {(429, "RATE_LIMITED")}
    assert await models.AccessToken.all().count() == 0


async def test_a_spent_address_may_sign_in_once_its_allowance_refills(
    app: Starlette, clock: FixedClock
) -> None:
    async with at(app, "203.0.113.7") as client:
        for _ in range(10):
            assert outcome(await sign_in(client, WRONG)) == (200, "INVALID_CREDENTIALS")
        response = await sign_in(client, PASSWORD)
        assert response.json() == refused(2)
        assert (response.status_code, response.headers["retry-after"]) == (429, "90")
        # when: a minute and a half passes (one more attempt)
        clock.advance(timedelta(seconds=90))
        assert outcome(await sign_in(client, PASSWORD)) == (200, "TOKEN")
    assert await models.AccessToken.all().count() == 1


async def test_the_owner_signs_in_from_a_new_address_after_50_failures_from_5(
    app: Starlette, checks: Checks
) -> None:
    # given: 50 wrong passwords for admin from five addresses
    attackers = [f"198.51.100.{n}" for n in range(1, 6)]
    for address in attackers:
        async with at(app, address) as client:
            for _ in range(10):
                response = await sign_in(client, WRONG, "Admin")
                assert outcome(response) == (200, "INVALID_CREDENTIALS")
    # when: the owner, from an address of their own
    async with at(app, "192.0.2.33") as owner:
        signed_in = await sign_in(owner, PASSWORD)
    # then
    assert outcome(signed_in) == (200, "TOKEN")
    assert await models.AccessToken.all().count() == 1
    # and: the guessers stay slowed; a sixth address gets three guesses
    for address in attackers:
        async with at(app, address) as client:
            assert outcome(await sign_in(client, WRONG)) == (429, "RATE_LIMITED")
    async with at(app, "198.51.100.6") as client:
        tries = [outcome(await sign_in(client, WRONG)) for _ in range(4)]
    assert tries == [(200, "INVALID_CREDENTIALS")] * 3 + [(429, "RATE_LIMITED")]
    assert len(checks.entered) == 50 + 1 + 3


async def test_successful_sign_ins_are_not_counted(app: Starlette) -> None:
    async with at(app, "192.0.2.33") as client:
        outcomes = [outcome(await sign_in(client, PASSWORD)) for _ in range(25)]
        assert outcomes == [(200, "TOKEN")] * 25
        for _ in range(10):
            assert outcome(await sign_in(client, WRONG)) == (200, "INVALID_CREDENTIALS")
        assert outcome(await sign_in(client, PASSWORD)) == (429, "RATE_LIMITED")


async def test_one_address_trying_many_usernames_is_limited(
    app: Starlette, checks: Checks
) -> None:
    async with at(app, "203.0.113.7") as client:
        for n in range(20):
            response = await sign_in(client, WRONG, f"user{n}")
            assert outcome(response) == (200, "INVALID_CREDENTIALS")
        response = await sign_in(client, PASSWORD)
    assert response.json() == refused(1)
    assert (response.status_code, response.headers["retry-after"]) == (429, "45")
    assert len(checks.entered) == 20


@pytest.mark.parametrize(
    ("second", "expected"),
    [
        ("2001:db8:7:1:ffff:1:2:3", (429, "RATE_LIMITED")),  # the same /64
        ("2001:db8:7:2::1", (200, "TOKEN")),  # the next /64
    ],
)
async def test_ipv6_addresses_count_per_64(
    app: Starlette, second: str, expected: tuple[int, str]
) -> None:
    async with at(app, "2001:db8:7:1::1") as client:
        for _ in range(10):
            assert outcome(await sign_in(client, WRONG)) == (200, "INVALID_CREDENTIALS")
    async with at(app, second) as client:
        assert outcome(await sign_in(client, PASSWORD)) == expected
