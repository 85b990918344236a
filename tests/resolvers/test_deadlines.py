"""Operations end: past their deadline, or when their HTTP client goes away.

A resolver is made to hang (it waits on an event nobody sets), so each test
knows the operation is running; nothing here depends on how long anything
takes but the deadline itself.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.types import Message

import kimgraph.events.log
from kimgraph.app import create_app
from kimgraph.clock import FixedClock
from kimgraph.settings import Settings
from tests.conftest import execute
from tests.people import Cast, snapshot

DEADLINE_S = 10.0
REGION_QUERY = '{ region(code: "61.04") { code } }'
PUBLISH = """
mutation ($input: AnnouncementPublishInput!) {
  announcementPublish(input: $input) { userErrors { code } }
}
"""


class Hang:
    """An async function that hangs once called; notes its start and its end."""

    def __init__(self, before: Callable[..., Awaitable[Any]] | None = None) -> None:
        self.before = before
        self.started = asyncio.Event()
        self.cancelled = asyncio.Event()

    async def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.before is not None:
            await self.before(*args, **kwargs)
        self.started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            self.cancelled.set()
            raise


async def test_a_query_past_its_deadline_answers_query_timeout(
    ketapang: str, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: a region resolver that never returns, and a 0.5 s deadline
    hang = Hang()
    monkeypatch.setattr("resolvers.regions.load_region", hang)
    settings = Settings(database_url=ketapang, query_timeout_seconds=0.5)
    app = create_app(settings, clock=clock)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        # when
        body = await execute(c, REGION_QUERY)
        # then: the error, and the resolver was cancelled
        assert body == {
            "data": None,
            "errors": [
                {
                    "message": "The operation took longer than 0.5 s and was "
                    "cancelled: ask for less, or try again later.",
                    "extensions": {"code": "QUERY_TIMEOUT"},
                }
            ],
        }
        assert hang.cancelled.is_set()
        # and the server serves on (a query that never waits cannot time out)
        assert await execute(c, "{ __typename }") == {"data": {"__typename": "Query"}}


def _post(body: bytes, headers: dict[str, str]) -> dict[str, Any]:
    """An ASGI scope of a POST /graphql with a JSON body."""
    raw = [(b"content-type", b"application/json")]
    raw += [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    raw += [(b"host", b"test"), (b"content-length", str(len(body)).encode())]
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "query_string": b"",
        "root_path": "",
        "headers": raw,
        "client": ("127.0.0.1", 50000),
        "server": ("test", 80),
    }


async def disconnect_while_hanging(
    app: Starlette,
    hang: Hang,
    operation: dict[str, Any],
    headers: dict[str, str] | None = None,
) -> list[Message]:
    """Send the operation, disconnect once it hangs; what the app sent."""
    body = json.dumps(operation).encode()
    incoming: asyncio.Queue[Message] = asyncio.Queue()
    incoming.put_nowait({"type": "http.request", "body": body, "more_body": False})
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    request = asyncio.create_task(app(_post(body, headers or {}), incoming.get, send))
    await asyncio.wait_for(hang.started.wait(), DEADLINE_S)
    incoming.put_nowait({"type": "http.disconnect"})
    await asyncio.wait_for(request, DEADLINE_S)
    return sent


async def test_a_client_that_disconnects_cancels_its_query(
    ketapang: str, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given
    hang = Hang()
    monkeypatch.setattr("resolvers.regions.load_region", hang)
    app = create_app(Settings(database_url=ketapang), clock=clock)
    # when
    sent = await disconnect_while_hanging(app, hang, {"query": REGION_QUERY})
    # then: cancelled, and nothing was sent to nobody
    assert hang.cancelled.is_set()
    assert sent == []


async def test_a_mutation_cancelled_by_a_disconnect_leaves_nothing_written(
    ketapang: str, clock: FixedClock, cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: publishing hangs after its rows and its event are written, in
    # its transaction
    hang = Hang(before=kimgraph.events.log.append)
    monkeypatch.setattr(kimgraph.events.log, "append", hang)
    app = create_app(Settings(database_url=ketapang), clock=clock)
    before = await snapshot()
    publish = {
        "title": "Posyandu",
        "body": "Posyandu hari Sabtu.",
        "category": "HEALTH",
        "targets": ["61.04.16.2006"],
    }
    operation = {"query": PUBLISH, "variables": {"input": publish}}
    # when
    sent = await disconnect_while_hanging(app, hang, operation, cast.headers["admin"])
    # then: rolled back
    assert hang.cancelled.is_set()
    assert sent == []
    assert await snapshot() == before


async def test_a_client_that_closes_its_socket_cancels_its_query_under_uvicorn(
    ketapang: str, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: the app served by uvicorn, as `kimgraph serve` does, on a socket
    # of this test's, and a region resolver that never returns
    hang = Hang()
    monkeypatch.setattr("resolvers.regions.load_region", hang)
    app = create_app(Settings(database_url=ketapang), clock=clock)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    config = uvicorn.Config(app, lifespan="off", log_level="warning")
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve(sockets=[listener]))
    try:
        body = json.dumps({"query": REGION_QUERY}).encode()
        _, writer = await asyncio.wait_for(
            asyncio.open_connection("127.0.0.1", port), DEADLINE_S
        )
        writer.write(
            b"POST /graphql HTTP/1.1\r\nHost: test\r\n"
            b"Content-Type: application/json\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        await asyncio.wait_for(hang.started.wait(), DEADLINE_S)
        # when: the client goes away
        writer.close()
        await writer.wait_closed()
        # then
        await asyncio.wait_for(hang.cancelled.wait(), DEADLINE_S)
    finally:
        server.should_exit = True
        await asyncio.wait_for(serving, DEADLINE_S)
        listener.close()
