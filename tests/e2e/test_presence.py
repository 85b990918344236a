"""Board presence across two real `kimgraph serve` processes on one database.

A board connected to process B is listed by a `boards` query to process A
within the heartbeat interval; closed, or with B killed, it shows offline; a
day later it is flagged (the domain query on the rows the processes wrote,
with the clock moved on).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect

from kimgraph import db, presence
from tests.e2e.live import DEADLINE_S, live_server
from tests.e2e.server import Server, running_server

DESA = "61.04.16.2006"  # Suka Bangun, Kecamatan Delta Pawan
HEARTBEAT_S = 0.3
QUERY_BOARDS = """
query ($region: String!) {
  boards(region: $region) {
    totalCount
    edges { node { region { code } online since lastSeenAt offlineOverADay } }
  }
}
"""


@dataclass
class TwoProcesses:
    """Processes A and B on one database, and an ADMIN's token."""

    a: Server
    b: Server
    database_url: str
    token: str


@contextmanager
def two_processes(backend: str, folder: Path) -> Iterator[TwoProcesses]:
    (folder / "a").mkdir()
    (folder / "b").mkdir()
    env = {"KIMGRAPH_BOARD_HEARTBEAT_SECONDS": str(HEARTBEAT_S)}
    with live_server(backend, folder / "a", env) as (server_a, url, token):
        b_env = {"KIMGRAPH_DATABASE_URL": url, **env}
        with running_server(folder / "b", b_env) as server_b:
            yield TwoProcesses(server_a, server_b, url, token)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def processes(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TwoProcesses]:
    with two_processes(str(request.param), tmp_path) as both:
        yield both


@asynccontextmanager
async def board(
    server: Server, payload: dict[str, Any]
) -> AsyncIterator[ClientConnection]:
    """A board's socket, acknowledged after a connection_init with this payload."""
    async with connect(server.ws_url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
        ack = json.loads(await asyncio.wait_for(ws.recv(), DEADLINE_S))
        assert ack["type"] == "connection_ack"
        yield ws


def boards(server: Server, token: str) -> dict[str, Any]:
    """The `boards` answer for Kabupaten Ketapang, as the ADMIN asks process A."""
    response = httpx.post(
        f"{server.url}/graphql",
        json={"query": QUERY_BOARDS, "variables": {"region": "61.04"}},
        headers={"authorization": f"Bearer {token}"},
        trust_env=False,
    )
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    return dict(body["data"]["boards"])


async def until(server: Server, token: str, online: bool) -> dict[str, Any]:
    """The first answer listing DESA with this online state; fails at the deadline."""
    deadline = time.monotonic() + DEADLINE_S
    while True:
        found = boards(server, token)
        nodes = [e["node"] for e in found["edges"]]
        if [(n["region"]["code"], n["online"]) for n in nodes] == [(DESA, online)]:
            return dict(nodes[0])
        assert time.monotonic() < deadline, found
        await asyncio.sleep(0.1)


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


async def test_a_board_on_b_is_listed_by_a_then_offline_then_flagged(
    processes: TwoProcesses,
) -> None:
    a, b, token = processes.a, processes.b, processes.token
    # given: nothing has reported yet, and a client that names no board
    async with board(a, {}):
        assert boards(a, token) == {"totalCount": 0, "edges": []}
        # when: a board of Suka Bangun connects to B
        connected = datetime.now(UTC)
        async with board(b, {"board": DESA}):
            # then: A lists it online, within a few heartbeats
            started = time.monotonic()
            online = await until(a, token, online=True)
            assert time.monotonic() - started < DEADLINE_S
            assert online["offlineOverADay"] is False
            assert instant(online["since"]) >= connected - timedelta(seconds=1)
            assert instant(online["lastSeenAt"]) >= instant(online["since"])
        # when: it closes; then A shows it offline, the row kept
        offline = await until(a, token, online=False)
        assert offline["offlineOverADay"] is False
        assert offline["since"] == online["since"]
    # when: a day and a minute pass (the domain query, clock moved on)
    await db.init(processes.database_url)
    try:
        later = instant(offline["lastSeenAt"]) + timedelta(days=1, minutes=1)
        states, _, total = await presence.board_page(
            "61.04", later, presence.stale_after(HEARTBEAT_S), None, 20
        )
    finally:
        await db.close()
    # then: it is flagged
    assert total == 1
    assert [(s.code, s.online, s.long_offline) for s in states] == [(DESA, False, True)]


async def test_a_killed_process_leaves_no_board_online(processes: TwoProcesses) -> None:
    a, b, token = processes.a, processes.b, processes.token
    # given: a board connected to B, listed online by A
    async with board(b, {"board": DESA}):
        await until(a, token, online=True)
        # when: B dies without a word
        b.process.kill()
        b.process.wait(timeout=DEADLINE_S)
        # then: A shows the board offline once B's heartbeats stop
        await until(a, token, online=False)
