"""An account deactivated through one server process loses its socket on another.

Two `kimgraph serve` processes share one database and Redis. The officer
follows a desa on process B; the ADMIN deactivates the officer through process
A. B's credential check (KIMGRAPH_CREDENTIAL_CHECK_SECONDS, shortened here)
closes the socket with 4403 "account deactivated", and the token then gets 401
from both processes (docs/operations.md, "Accounts").
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.live import Live, Subscriber, cli, live_server
from tests.e2e.server import Server, running_server
from tests.e2e.test_credential_checks import CHECK_SECONDS, CLOSE_DEADLINE_S, close_of
from tests.services import redis_url

DESA = "61.04.16.2006"  # Suka Bangun, Kecamatan Delta Pawan
OFFICER_PASSWORD = "kata-sandi-camat-123"
MUTATION_TOKEN_CREATE = """
mutation ($input: TokenCreateInput!) {
  tokenCreate(input: $input) { token userErrors { code } }
}
"""
QUERY_OFFICER = """
query { accounts(role: OFFICER) { edges { node { id username } } } }
"""
MUTATION_ACCOUNT_DEACTIVATE = """
mutation ($id: ID!) {
  accountDeactivate(id: $id) {
    account { username active } closedConnections userErrors { code message }
  }
}
"""
QUERY_ME = "{ me { username } }"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def processes(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[Server, Server, str, str]]:
    """Processes A and B on one database and Redis; A's admin token, the URL."""
    env = {
        "KIMGRAPH_REDIS_URL": redis_url(),
        "KIMGRAPH_CREDENTIAL_CHECK_SECONDS": str(CHECK_SECONDS),
    }
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with live_server(str(request.param), tmp_path / "a", env) as (a, url, token):
        environment = {
            "KIMGRAPH_DATABASE_URL": url,
            "KIMGRAPH_TIMER_INTERVAL_SECONDS": "0.2",
            **env,
        }
        with running_server(tmp_path / "b", environment) as b:
            yield a, b, token, url


async def test_deactivation_through_a_closes_the_socket_on_b_and_gets_401_on_both(
    processes: tuple[Server, Server, str, str], tmp_path: Path
) -> None:
    # given: an officer signed in on B, following a desa there
    a, b, admin_token, database_url = processes
    await asyncio.to_thread(
        cli,
        "accounts", "create", "--username", "camat", "--role", "OFFICER",
        "--region", "61.04.16", "--password", OFFICER_PASSWORD,
        env={"KIMGRAPH_DATABASE_URL": database_url},
        cwd=tmp_path,
    )  # fmt: skip
    admin = Live(a, database_url, admin_token)
    async with (
        httpx.AsyncClient(base_url=a.url, trust_env=False) as on_a,
        httpx.AsyncClient(base_url=b.url, trust_env=False) as on_b,
    ):
        admin.http = on_a
        signed_in = await on_b.post(
            "/graphql",
            json={
                "query": MUTATION_TOKEN_CREATE,
                "variables": {
                    "input": {"username": "camat", "password": OFFICER_PASSWORD}
                },
            },
        )
        token = signed_in.json()["data"]["tokenCreate"]["token"]
        officer = {"authorization": f"Bearer {token}"}
        cursor = await admin.cursor(DESA)
        subscriber = await Subscriber.open(
            b, DESA, after=cursor, authorization=officer["authorization"]
        )
        await admin.publish("Sebelum penonaktifan", [DESA])
        before = await subscriber.event()
        (edge,) = (await admin.graphql(QUERY_OFFICER))["accounts"]["edges"]
        # when: the admin deactivates the officer through A
        started = time.monotonic()
        deactivated = await admin.graphql(
            MUTATION_ACCOUNT_DEACTIVATE, {"id": edge["node"]["id"]}
        )
        closed = await close_of(subscriber)
        elapsed = time.monotonic() - started
        refusals = [
            await http.post("/graphql", json={"query": QUERY_ME}, headers=officer)
            for http in (on_a, on_b)
        ]
    # then
    assert before["announcement"]["title"] == "Sebelum penonaktifan"
    assert deactivated == {
        "accountDeactivate": {
            "account": {"username": "camat", "active": False},
            "closedConnections": 0,  # none on A: the socket is on B
            "userErrors": [],
        }
    }
    assert closed == (4403, "account deactivated")
    assert elapsed < CLOSE_DEADLINE_S
    assert [r.status_code for r in refusals] == [401, 401]
    assert [r.json()["errors"][0]["extensions"]["code"] for r in refusals] == [
        "UNAUTHENTICATED",
        "UNAUTHENTICATED",
    ]
