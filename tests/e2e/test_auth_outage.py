"""A database lost while a request is authenticated: 503 or 1013, not a bare 500.

The server's PostgreSQL connections are terminated and the database refuses
new ones, as in a failover; a signed-in request must then be told to retry
(kimgraph.outage, docs/http.md "When the database does not answer").
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from websockets.asyncio.client import connect

from kimgraph.outage import MESSAGE
from tests.e2e.live import DEADLINE_S, Live, live_server
from tests.e2e.server import Server
from tests.services import POSTGRES_URL

QUERY = "{ __typename }"
UNAVAILABLE = {"message": MESSAGE, "extensions": {"code": "SERVICE_UNAVAILABLE"}}


@pytest.fixture(params=[pytest.param("postgres", marks=pytest.mark.postgres)])
def deployed(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[Server, str, str]]:
    with live_server(str(request.param), tmp_path) as deployment:
        yield deployment


async def allow_connections(database_url: str, allowed: bool) -> None:
    """Let the database take connections, or end all and refuse new ones."""
    name = database_url.rsplit("/", 1)[1]
    admin = await asyncpg.connect(POSTGRES_URL + "postgres", timeout=5)
    try:
        await admin.execute(
            f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS {str(allowed).lower()}'
        )
        if not allowed:
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = $1 AND pid <> pg_backend_pid()",
                name,
            )
    finally:
        await admin.close()


async def closed_at_init(live: Live, subprotocol: str) -> tuple[int | None, str]:
    """The close code and reason of a socket that sent a signed-in init."""
    async with connect(
        live.server.ws_url,
        subprotocols=[subprotocol],  # type: ignore[list-item]
        proxy=None,
        open_timeout=DEADLINE_S,
    ) as ws:
        payload = {"authorization": f"Bearer {live.token}"}
        init = {"type": "connection_init", "payload": payload}
        await ws.send(json.dumps(init))
        async with asyncio.timeout(DEADLINE_S):
            await ws.wait_closed()
        return ws.close_code, ws.close_reason or ""


async def test_a_lost_database_while_authenticating_is_a_retryable_answer(
    live: Live,
) -> None:
    # given: the server has connected, then loses its database
    signed_in = {"authorization": f"Bearer {live.token}"}
    assert (await live.http.post("/graphql", json={"query": QUERY})).status_code == 200
    await allow_connections(live.database_url, False)
    try:
        # when: signed-in requests and sockets come
        answered = await live.http.post(
            "/graphql", json={"query": QUERY}, headers=signed_in
        )
        strict = await live.http.post(
            "/graphql",
            json={"query": QUERY},
            headers={**signed_in, "accept": "application/graphql-response+json"},
        )
        sockets = [
            await closed_at_init(live, "graphql-transport-ws"),
            await closed_at_init(live, "graphql-ws"),
        ]
    finally:
        await allow_connections(live.database_url, True)
    # then: 503 with a code, retried after a second; sockets closed with 1013
    assert (answered.status_code, answered.headers["retry-after"]) == (503, "1")
    assert answered.json() == {"data": None, "errors": [UNAVAILABLE]}
    assert (strict.status_code, strict.json()) == (503, {"errors": [UNAVAILABLE]})
    assert strict.headers["content-type"] == "application/graphql-response+json"
    assert sockets == [(1013, MESSAGE), (1013, MESSAGE)]
    # and: one line each, by type, without a traceback or the driver's message
    output = live.server.output()
    assert "Exception in ASGI application" not in output
    assert output.count("authenticating a request: the database did not answer") == 2
    assert output.count("authenticating a WebSocket: the database did not answer") == 2
    assert "not currently accepting connections" not in output
    # and: once the database is back, so is the service
    again = await live.http.post("/graphql", json={"query": QUERY}, headers=signed_in)
    assert again.json() == {"data": {"__typename": "Query"}}
