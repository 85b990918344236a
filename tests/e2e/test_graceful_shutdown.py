"""SIGTERM: every accepted WebSocket gets 1012, and the process exits in time.

Issue 16: a socket accepted during uvicorn's shutdown window was never closed
and the process waited for it for ever, stalling a rolling restart. Here a
subscription stream over HTTP, which never ends by itself, holds the window
open as such a socket did; sockets are opened through it until the server
refuses them (kimgraph.live.shutdown, docs/live-delivery.md "Shutting down").
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidHandshake

from tests.e2e.live import (
    DEADLINE_S,
    SUBSCRIPTION_EVENTS,
    Live,
    Subscriber,
    live_server,
)
from tests.e2e.server import Server

DESA = "61.04.16.2006"  # Suka Bangun, Kecamatan Delta Pawan
SHUTDOWN_TIMEOUT_S = 5
SERVICE_RESTART = 1012


@pytest.fixture
def deployed(tmp_path: Path) -> Iterator[tuple[Server, str, str]]:
    env = {"KIMGRAPH_SHUTDOWN_TIMEOUT_SECONDS": str(SHUTDOWN_TIMEOUT_S)}
    with live_server("sqlite", tmp_path, env) as deployment:
        yield deployment


async def close_code(ws: ClientConnection) -> int | None:
    async with asyncio.timeout(DEADLINE_S):
        await ws.wait_closed()
    return ws.close_code


async def opened_until_refused(server: Server) -> list[ClientConnection]:
    """Sockets opened one after another until the server refuses one."""
    opened: list[ClientConnection] = []
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        try:
            ws = await connect(
                server.ws_url,
                subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
                proxy=None,
                open_timeout=DEADLINE_S,
            )
        except (OSError, InvalidHandshake):
            return opened
        opened.append(ws)
    raise AssertionError(f"still accepting sockets {DEADLINE_S}s after SIGTERM")


async def test_sigterm_closes_every_socket_with_1012_and_exits_in_time(
    live: Live,
) -> None:
    # given: live boards, and a subscription stream over HTTP
    boards = [await Subscriber.open(live.server, DESA) for _ in range(3)]
    async with httpx.AsyncClient(
        base_url=live.server.url, trust_env=False, timeout=None
    ) as client:
        request = client.build_request(
            "POST",
            "/graphql",
            json={"query": SUBSCRIPTION_EVENTS, "variables": {"region": DESA}},
            headers={"accept": "text/event-stream"},
        )
        stream = await client.send(request, stream=True)
        assert stream.status_code == 200
        process = live.server.process
        # when: the process is told to stop, and sockets keep coming
        process.send_signal(signal.SIGTERM)
        signalled = time.monotonic()
        late = await opened_until_refused(live.server)
        # then: every socket it accepted, before or after, is closed with 1012
        codes = [await close_code(ws) for ws in [b.ws for b in boards] + late]
        assert codes == [SERVICE_RESTART] * (len(boards) + len(late))
        # and: it exits, the open stream cut after the shutdown timeout
        try:
            await asyncio.to_thread(process.wait, SHUTDOWN_TIMEOUT_S + DEADLINE_S)
        except subprocess.TimeoutExpired:
            raise AssertionError("the process did not exit after SIGTERM") from None
        await stream.aclose()
    assert time.monotonic() - signalled < SHUTDOWN_TIMEOUT_S + DEADLINE_S
    output = live.server.output()
    assert "timeout graceful shutdown exceeded" in output
