"""Who may hold a WebSocket: a cap per address, and the legacy protocol's rules."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.e2e.live import DEADLINE_S, Live, live_server, signed_in
from tests.e2e.server import Server

DESA = "61.04.16.2006"
CAP = 3


def metric(text: str, name: str) -> float:
    """The value of an unlabelled sample in Prometheus text."""
    line = next(line for line in text.splitlines() if line.startswith(name + " "))
    return float(line.split()[1])


async def open_socket(server: Server, protocol: str) -> ClientConnection:
    return await connect(
        server.ws_url,
        subprotocols=[protocol],  # type: ignore[list-item]
        proxy=None,
        open_timeout=DEADLINE_S,
    )


async def acknowledged(server: Server, protocol: str) -> ClientConnection:
    """A socket that sent connection_init and got its ack."""
    ws = await open_socket(server, protocol)
    await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
    assert json.loads(await asyncio.wait_for(ws.recv(), DEADLINE_S)) == {
        "type": "connection_ack"
    }
    return ws


async def closed_with(ws: ClientConnection) -> tuple[int, str]:
    """Read until the server closes; its close code and reason."""
    with pytest.raises(ConnectionClosed) as closed:
        await asyncio.wait_for(only_keep_alives(ws), DEADLINE_S)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code, closed.value.rcvd.reason


async def only_keep_alives(ws: ClientConnection) -> None:
    """Read messages, which must all be `ka`, until the connection ends."""
    while True:
        message = json.loads(await ws.recv())
        assert message["type"] == "ka", message


async def until_metric(http: httpx.AsyncClient, name: str, value: float) -> None:
    """Poll /metrics until the sample has the value (generous deadline)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DEADLINE_S
    while (now := metric((await http.get("/metrics")).text, name)) != value:
        assert loop.time() < deadline, (name, now)
        await asyncio.sleep(0.05)


async def accepted_once_room(server: Server) -> ClientConnection:
    """A new socket, retried while the server still counts a closed one."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DEADLINE_S
    while True:
        try:
            return await acknowledged(server, "graphql-transport-ws")
        except InvalidStatus as exc:
            status = exc.response.status_code
        assert status == 403
        assert loop.time() < deadline, "no room after a socket closed"
        await asyncio.sleep(0.05)


@pytest.fixture
def capped(tmp_path: Path) -> Iterator[tuple[Server, str, str]]:
    with live_server(
        "sqlite", tmp_path, {"KIMGRAPH_WS_MAX_PER_ADDRESS": str(CAP)}
    ) as d:
        yield d


@pytest.fixture
def legacy_off(tmp_path: Path) -> Iterator[tuple[Server, str, str]]:
    with live_server("sqlite", tmp_path, {"KIMGRAPH_LEGACY_WS": "0"}) as d:
        yield d


async def test_one_address_holds_at_most_its_cap_of_sockets(
    capped: tuple[Server, str, str],
) -> None:
    server = capped[0]
    async with signed_in(capped) as live:
        # given: as many sockets from 127.0.0.1 as the cap allows, both protocols
        sockets = [
            await acknowledged(server, "graphql-transport-ws"),
            await acknowledged(server, "graphql-ws"),
            await acknowledged(server, "graphql-transport-ws"),
        ]
        # when: one more
        with pytest.raises(InvalidStatus) as refused:
            await open_socket(server, "graphql-transport-ws")
        # then: refused at the handshake with 403, and the others are untouched
        assert refused.value.response.status_code == 403
        text = (await live.http.get("/metrics")).text
        assert metric(text, "kimgraph_websocket_connections") == CAP
        assert metric(text, "kimgraph_websocket_refusals_total") == 1
        await sockets[0].send(json.dumps({"type": "ping"}))
        assert json.loads(await asyncio.wait_for(sockets[0].recv(), DEADLINE_S)) == {
            "type": "pong"
        }
        # when: one closes
        await sockets.pop().close()
        # then: a new one is accepted (once the server has seen the close)
        sockets.append(await accepted_once_room(server))
        for ws in sockets:
            await ws.close()
        await until_metric(live.http, "kimgraph_websocket_connections", 0)
        # and every count was released: the cap is whole again
        again = [await acknowledged(server, "graphql-ws") for _ in range(CAP)]
        for ws in again:
            await ws.close()


async def test_a_silent_legacy_socket_is_closed_after_the_init_timeout(
    live: Live,
) -> None:
    # given: a graphql-ws socket that never sends connection_init
    ws = await open_socket(live.server, "graphql-ws")
    # then: closed with 4408 once the 3 s are up
    assert await closed_with(ws) == (4408, "Connection initialisation timeout")
    await until_metric(live.http, "kimgraph_websocket_connections", 0)


async def test_a_second_legacy_connection_init_closes_the_socket(live: Live) -> None:
    # given
    ws = await acknowledged(live.server, "graphql-ws")
    # when
    await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
    # then: as graphql-transport-ws does, 4429
    assert await closed_with(ws) == (4429, "Too many initialisation requests")
    await until_metric(live.http, "kimgraph_websocket_connections", 0)
    log = live.server.output()
    assert "Task exception was never retrieved" not in log


async def test_legacy_sockets_are_counted_and_kept_alive_by_the_pinger(
    live: Live,
) -> None:
    # given: one socket of each protocol
    modern = await acknowledged(live.server, "graphql-transport-ws")
    legacy = await acknowledged(live.server, "graphql-ws")
    # then: both are counted, the legacy one also on its own
    text = (await live.http.get("/metrics")).text
    assert metric(text, "kimgraph_websocket_connections") == 2
    assert metric(text, "kimgraph_websocket_legacy_connections") == 1
    # and the legacy one is sent `ka` right after its ack
    assert json.loads(await asyncio.wait_for(legacy.recv(), DEADLINE_S)) == {
        "type": "ka"
    }
    # when: it closes, it is no longer counted
    await legacy.close()
    await until_metric(live.http, "kimgraph_websocket_legacy_connections", 0)
    text = (await live.http.get("/metrics")).text
    assert metric(text, "kimgraph_websocket_connections") == 1
    await modern.close()


async def test_with_the_legacy_protocol_off_its_clients_are_refused(
    legacy_off: tuple[Server, str, str],
) -> None:
    server = legacy_off[0]
    # when: a client asks only for graphql-ws
    ws = await open_socket(server, "graphql-ws")
    # then: no subprotocol is agreed and the socket is closed with 4406
    assert ws.subprotocol is None
    assert await closed_with(ws) == (4406, "Subprotocol not acceptable")
    # while graphql-transport-ws is served as ever
    modern = await acknowledged(server, "graphql-transport-ws")
    await modern.close()
