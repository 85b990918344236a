"""Encoded frames written straight to uvicorn's transport, and when they are not."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket
from websockets.asyncio.client import connect
from websockets.protocol import Protocol, Side

from kimgraph.live.direct_write import DirectWriter, text_frame
from kimgraph.live.shutdown import closing_on_restart
from kimgraph.request_log import RequestLog
from tests.kimgraph.live.serving import DEADLINE_S, uvicorn_serving
from tests.kimgraph.live.sockets import until

Endpoint = Callable[[WebSocket], Awaitable[None]]
Wrap = Callable[[ASGIApp], ASGIApp]


@pytest.mark.parametrize("length", [0, 1, 125, 126, 65_535, 65_536, 70_000])
def test_a_frame_is_encoded_as_websockets_encodes_it(length: int) -> None:
    text = ("é" * length)[:length]
    connection = Protocol(Side.SERVER)
    connection.send_text(text.encode())
    assert text_frame(text) == b"".join(connection.data_to_send())


@pytest.fixture
async def serve() -> AsyncIterator[Callable[..., Awaitable[str]]]:
    """Start a real uvicorn (as `kimgraph serve` runs it) with one endpoint."""
    async with contextlib.AsyncExitStack() as servers:

        async def start(endpoint: Endpoint, wrap: Wrap = lambda app: app) -> str:
            app = wrap(Starlette(routes=[WebSocketRoute("/ws", endpoint)]))
            port = await servers.enter_async_context(uvicorn_serving(app))
            return f"ws://127.0.0.1:{port}/ws"

        yield start


async def test_an_uncompressed_uvicorn_socket_takes_frames_directly(
    serve: Callable[..., Awaitable[str]],
) -> None:
    outcome: list[bool] = []
    url = await serve(direct_then_asgi(outcome))
    await client_of_direct_then_asgi(url)
    assert outcome == [True, False]  # nothing is written after the close


def direct_then_asgi(outcome: list[bool]) -> Endpoint:
    """An endpoint that writes a frame directly, one through ASGI, and (once
    closed) tries a direct write again; each direct write's result in outcome."""

    async def endpoint(websocket: WebSocket) -> None:
        await websocket.accept()
        writer = DirectWriter.for_socket(websocket)
        outcome.append(writer is not None and writer.write(text_frame("sampai")))
        await websocket.send_text("lewat ASGI")  # order is kept
        await websocket.receive_text()
        await websocket.close()
        outcome.append(writer is not None and writer.write(text_frame("terlambat")))

    return endpoint


async def client_of_direct_then_asgi(url: str) -> None:
    """Both frames in order; then the client ends it."""
    async with connect(url, compression=None, proxy=None) as client:
        assert await client.recv() == "sampai"
        assert await client.recv() == "lewat ASGI"
        await client.send("selesai")
        await client.wait_closed()


def as_the_app_wraps_it(app: ASGIApp) -> ASGIApp:
    """The request log outside, the restart close inside, as kimgraph.app has them."""

    async def restart_closing(scope: Scope, receive: Receive, send: Send) -> None:
        await app(scope, receive, closing_on_restart(send))

    return RequestLog(restart_closing)


async def test_a_socket_behind_the_request_log_takes_frames_directly_and_counts_them(
    serve: Callable[..., Awaitable[str]], caplog: pytest.LogCaptureFixture
) -> None:
    # given: an endpoint whose receive and send are wrapped as the app wraps them
    outcome: list[bool] = []
    url = await serve(direct_then_asgi(outcome), as_the_app_wraps_it)
    # when
    with caplog.at_level(logging.INFO, logger="kimgraph.access"):
        await client_of_direct_then_asgi(url)
        # then: the wrappers were looked through, and the access line (written
        # once the endpoint returned) counts the frame written past them

        def access_lines() -> list[str]:
            return [m for r in caplog.records if "closed" in (m := r.getMessage())]

        await until(lambda: len(access_lines()) == 1, DEADLINE_S)
        assert outcome == [True, False]
        assert access_lines()[0].endswith("1 messages in, 2 out")


async def test_a_compressed_socket_gets_no_direct_writer(
    serve: Callable[..., Awaitable[str]],
) -> None:
    outcome: list[object] = []

    async def endpoint(websocket: WebSocket) -> None:
        await websocket.accept()
        outcome.append(DirectWriter.for_socket(websocket))
        await websocket.send_text("lewat ASGI")
        await websocket.close()

    url = await serve(endpoint)
    async with connect(url, proxy=None) as client:  # offers permessage-deflate
        assert await client.recv() == "lewat ASGI"
    assert outcome == [None]
