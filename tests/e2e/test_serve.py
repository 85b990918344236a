"""`kimgraph serve` as a deployer runs it: real process, real HTTP and WebSocket."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.e2e.server import Server, running_server
from tests.services import postgres_database

QUERY_KETAPANG_TREE = """
{ region(code: "61.04") { name ... on Kabupaten {
    kecamatan { code desa { code } kelurahan { code } } } } }
"""

WS_TIMEOUT_S = 30.0


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Server]:
    """A server on a fresh database; SQLite uses the default file in its folder."""
    if request.param == "sqlite":
        with running_server(tmp_path, {"KIMGRAPH_DATABASE_URL": ""}) as running:
            yield running
        return
    with (
        postgres_database() as url,
        running_server(tmp_path, {"KIMGRAPH_DATABASE_URL": url}) as running,
    ):
        yield running


def assert_ketapang_tree(data: dict[str, Any]) -> None:
    region = data["region"]
    assert region["name"] == "Kabupaten Ketapang"
    assert len(region["kecamatan"]) == 20
    assert sum(len(k["desa"]) for k in region["kecamatan"]) == 253
    assert sum(len(k["kelurahan"]) for k in region["kecamatan"]) == 9


async def test_a_fresh_server_serves_ketapang_over_http(server: Server) -> None:
    # when
    async with httpx.AsyncClient(base_url=server.url, trust_env=False) as client:
        response = await client.post("/graphql", json={"query": QUERY_KETAPANG_TREE})
        ready = await client.get("/readyz")
    # then
    assert response.status_code == 200
    body = response.json()
    assert "errors" not in body
    assert_ketapang_tree(body["data"])
    assert ready.status_code == 200


def test_the_default_database_is_a_sqlite_file_in_the_working_directory(
    tmp_path: Path,
) -> None:
    # when
    with running_server(tmp_path, {"KIMGRAPH_DATABASE_URL": ""}) as running:
        response = httpx.post(
            f"{running.url}/graphql",
            json={"query": '{ region(code: "61.04.16") { name } }'},
            trust_env=False,
        )
    # then
    assert response.json() == {"data": {"region": {"name": "Delta Pawan"}}}
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".db") == [
        "kimgraph.db"
    ]


async def test_queries_run_over_graphql_transport_ws(server: Server) -> None:
    # when
    async with connect(
        server.ws_url,
        subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
        proxy=None,
        open_timeout=WS_TIMEOUT_S,
    ) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        ack = json.loads(await ws.recv(decode=True))
        await ws.send(
            json.dumps(
                {
                    "id": "1",
                    "type": "subscribe",
                    "payload": {"query": QUERY_KETAPANG_TREE},
                }
            )
        )
        result = json.loads(await ws.recv(decode=True))
        complete = json.loads(await ws.recv(decode=True))
    # then
    assert ack == {"type": "connection_ack"}
    assert (result["type"], result["id"]) == ("next", "1")
    assert_ketapang_tree(result["payload"]["data"])
    assert complete == {"id": "1", "type": "complete"}


async def test_a_socket_without_connection_init_is_closed_with_4408(
    server: Server,
) -> None:
    # given
    async with connect(
        server.ws_url,
        subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
        proxy=None,
        open_timeout=WS_TIMEOUT_S,
    ) as ws:
        started = time.monotonic()
        # when: the client says nothing
        with pytest.raises(ConnectionClosed) as closed:
            await ws.recv()
        waited = time.monotonic() - started
    # then
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4408
    assert waited < WS_TIMEOUT_S
