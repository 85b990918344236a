"""The HTTP protocol kimgraph serves with leaves no cycle behind an upgrade."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from websockets.asyncio.client import connect

from kimgraph.http_protocol import HttpProtocol

DEADLINE_S = 30.0
# The HTTP protocols each server made, by weak reference.
made: list[weakref.ref[HttpToolsProtocol]] = []


class Recorded(HttpProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        made.append(weakref.ref(self))


class RecordedUvicorn(HttpToolsProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        made.append(weakref.ref(self))


async def echo(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_text(await websocket.receive_text())
    await websocket.receive_text()  # until the client closes


@pytest.fixture
def no_cyclic_collection() -> Iterator[None]:
    """Only reference counting frees anything meanwhile."""
    made.clear()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        made.clear()


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[type[HttpToolsProtocol]], Any]]:
    """Start a real uvicorn with the echo endpoint and the given HTTP protocol."""
    servers: list[tuple[uvicorn.Server, asyncio.Task[None]]] = []

    async def start(http: type[HttpToolsProtocol]) -> str:
        app = Starlette(routes=[WebSocketRoute("/ws", echo)])
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=0,
            ws="websockets-sansio",
            http=http,
            lifespan="off",
        )
        server = uvicorn.Server(config)
        task = asyncio.create_task(server.serve())
        servers.append((server, task))
        while not server.started:
            assert not task.done(), "uvicorn did not start"
            await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        return f"ws://127.0.0.1:{port}/ws"

    yield start
    for server, task in servers:
        server.should_exit = True
        await asyncio.wait_for(task, DEADLINE_S)


async def upgraded_and_live(url: str) -> list[bool]:
    """Open a socket, echo once; whether each HTTP protocol made is still alive."""
    async with connect(url) as socket:
        await socket.send("hello")
        assert await socket.recv() == "hello"
        return [ref() is not None for ref in made]


@pytest.mark.usefixtures("no_cyclic_collection")
async def test_the_http_protocol_is_freed_once_a_websocket_took_over(
    serve: Callable[[type[HttpToolsProtocol]], Any],
) -> None:
    # given
    url = await serve(Recorded)
    # when
    alive = await upgraded_and_live(url)
    # then: the one HTTP protocol is gone while its socket is live
    assert alive == [False]


@pytest.mark.usefixtures("no_cyclic_collection")
async def test_uvicorns_own_protocol_is_left_to_the_cyclic_collector(
    serve: Callable[[type[HttpToolsProtocol]], Any],
) -> None:
    # given: uvicorn's protocol, which HttpProtocol fixes
    url = await serve(RecordedUvicorn)
    # when
    alive = await upgraded_and_live(url)
    # then: still alive, held by its parser (if this fails, uvicorn fixed it
    # and kimgraph.http_protocol can go)
    assert alive == [True]
