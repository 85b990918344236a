"""The HTTP protocol kimgraph serves with leaves no cycle behind an upgrade."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from websockets.asyncio.client import connect

from kimgraph.http_protocol import HttpProtocol
from tests.kimgraph.live.serving import uvicorn_serving

# The HTTP protocols the server made, by weak reference.
made: list[weakref.ref[HttpToolsProtocol]] = []


class Recording:
    """Notes each protocol made in `made`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        made.append(weakref.ref(self))  # type: ignore[arg-type]


class RecordedKimgraph(Recording, HttpProtocol):
    pass


class RecordedUvicorn(Recording, HttpToolsProtocol):
    pass


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


@pytest.mark.usefixtures("no_cyclic_collection")
@pytest.mark.parametrize(
    ("http", "alive"),
    [
        # kimgraph's: gone while its socket is live
        (RecordedKimgraph, [False]),
        # uvicorn's: still alive, held by its parser (if this fails, uvicorn
        # fixed it and kimgraph.http_protocol can go)
        (RecordedUvicorn, [True]),
    ],
)
async def test_the_http_protocol_is_freed_once_a_websocket_took_over(
    http: type[HttpToolsProtocol], alive: list[bool]
) -> None:
    # given
    app = Starlette(routes=[WebSocketRoute("/ws", echo)])
    # when: a socket opened and echoed once
    async with (
        uvicorn_serving(app, http=http) as port,
        connect(f"ws://127.0.0.1:{port}/ws") as socket,
    ):
        await socket.send("hello")
        assert await socket.recv() == "hello"
        # then: whether the one HTTP protocol made is still alive
        assert [ref() is not None for ref in made] == alive
