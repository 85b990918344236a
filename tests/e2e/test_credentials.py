"""Credentials end to end: nothing secret at rest or in logs; revocation is live."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from tortoise import Tortoise
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from kimgraph import db
from tests.e2e import live
from tests.e2e.server import Server, running_server
from tests.services import database

PASSWORD = "kata-sandi-rahasia-123"
WS_TIMEOUT_S = 30.0
QUERY_ME = "{ me { username role } }"


@dataclass(frozen=True)
class Deployment:
    """A server, its database URL, and a partner key made with the CLI."""

    server: Server
    database_url: str
    api_key: str
    cli_output: str


def cli(*args: str, env: dict[str, str], cwd: Path) -> str:
    """Everything an operator sees of a command, where a secret could leak."""
    return live.cli(*args, env=env, cwd=cwd, stderr=True)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def deployment(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Deployment]:
    with database(str(request.param), tmp_path) as url:
        env = {"KIMGRAPH_DATABASE_URL": url, "KIMGRAPH_LOG_LEVEL": "debug"}
        with running_server(tmp_path, env) as server:
            out = cli(
                "accounts",
                "create",
                "--username",
                "camat",
                "--role",
                "OFFICER",
                "--region",
                "61.04.16",
                "--password",
                PASSWORD,
                env=env,
                cwd=tmp_path,
            )
            key_out = cli(
                "apikeys",
                "create",
                "--name",
                "Aplikasi Mitra",
                "--region",
                "61.04",
                env=env,
                cwd=tmp_path,
            )
            api_key = next(
                line for line in key_out.splitlines() if line.startswith("kgk_")
            )
            yield Deployment(server, url, api_key, out + key_out)


async def graphql(
    server: Server,
    query: str,
    variables: dict[str, Any] | None = None,
    token: str | None = None,
) -> httpx.Response:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(base_url=server.url, trust_env=False) as client:
        return await client.post(
            "/graphql",
            json={"query": query, "variables": variables or {}},
            headers=headers,
        )


async def sign_in(server: Server, password: str = PASSWORD) -> dict[str, Any]:
    response = await graphql(
        server,
        "mutation ($i: TokenCreateInput!) { tokenCreate(input: $i) "
        "{ token userErrors { code } } }",
        {"i": {"username": "camat", "password": password}},
    )
    payload: dict[str, Any] = response.json()["data"]["tokenCreate"]
    return payload


async def dump_database(url: str) -> str:
    """Every row of every table, as text."""
    await db.init(url)
    try:
        connection = Tortoise.get_connection("default")
        tables = (
            "region",
            "kim",
            "kim_member",
            "account",
            "access_token",
            "api_key",
            "tortoise_migrations",
        )
        dump: list[str] = []
        for table in tables:
            rows = await connection.execute_query_dict(f"SELECT * FROM {table}")
            dump.extend(json.dumps(row, default=str) for row in rows)
        return "\n".join(dump)
    finally:
        await db.close()


async def open_socket(server: Server, authorization: str | None) -> ClientConnection:
    ws = await connect(
        server.ws_url,
        subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
        proxy=None,
        open_timeout=WS_TIMEOUT_S,
    )
    payload = {"Authorization": authorization} if authorization else {}
    await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
    return ws


async def closed_with(ws: ClientConnection) -> int | None:
    """Wait (within the deadline) for the server to close; the close code."""
    with pytest.raises(ConnectionClosed) as closed:
        await asyncio.wait_for(_drain(ws), WS_TIMEOUT_S)
    return closed.value.rcvd.code if closed.value.rcvd else None


async def _drain(ws: ClientConnection) -> None:
    while True:
        await ws.recv()


async def test_no_secret_is_stored_or_logged_in_clear(deployment: Deployment) -> None:
    # given: a sign-in, a failed one, and both credentials used
    server = deployment.server
    token = (await sign_in(server))["token"]
    failed = await sign_in(server, password="wrong-" + PASSWORD)
    me = await graphql(server, QUERY_ME, token=token)
    partner = await graphql(server, QUERY_ME, token=deployment.api_key)
    ws = await open_socket(server, f"Bearer {token}")
    ack = json.loads(await ws.recv(decode=True))
    await ws.close()
    # when
    stored = await dump_database(deployment.database_url)
    log = server.output()
    # then: everything worked, so the secrets did pass through the server
    assert failed == {"token": None, "userErrors": [{"code": "INVALID_CREDENTIALS"}]}
    assert me.json() == {"data": {"me": {"username": "camat", "role": "OFFICER"}}}
    assert partner.json() == {"data": {"me": {"username": None, "role": "PARTNER"}}}
    assert ack == {"type": "connection_ack"}
    # and the checks have teeth: SQL is logged, rows are dumped
    assert "SELECT" in log
    assert "camat" in stored
    for secret in (PASSWORD, token, deployment.api_key):
        assert secret not in stored
        assert secret not in log
        assert secret[4:] not in log
    assert "$argon2id$" in stored


async def test_bad_credentials_close_the_socket_with_4403(
    deployment: Deployment,
) -> None:
    ws = await open_socket(deployment.server, "Bearer kgt_not-a-real-token")
    assert await closed_with(ws) == 4403


async def test_revoking_a_token_closes_its_sockets_with_4403(
    deployment: Deployment,
) -> None:
    # given: a socket signed in with a token, answering queries
    server = deployment.server
    token = (await sign_in(server))["token"]
    ws = await open_socket(server, f"bearer {token}")
    assert json.loads(await ws.recv(decode=True)) == {"type": "connection_ack"}
    await ws.send(
        json.dumps({"id": "1", "type": "subscribe", "payload": {"query": QUERY_ME}})
    )
    first = json.loads(await ws.recv(decode=True))
    assert first["payload"] == {
        "data": {"me": {"username": "camat", "role": "OFFICER"}}
    }
    # when
    revoked = await graphql(
        server, "mutation { tokenRevoke { revoked closedConnections } }", token=token
    )
    # then
    assert revoked.json() == {
        "data": {"tokenRevoke": {"revoked": True, "closedConnections": 1}}
    }
    assert await closed_with(ws) == 4403
