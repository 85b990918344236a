"""The app served by a real uvicorn in the test's own event loop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.types import ASGIApp

from kimgraph.view import GraphQLView

DEADLINE_S = 30.0


@asynccontextmanager
async def uvicorn_serving(app: ASGIApp, **options: Any) -> AsyncIterator[int]:
    """A real uvicorn serving app in this loop, no lifespan; its port.

    `options` go to uvicorn.Config (an `http` protocol, say)."""
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        ws="websockets-sansio",
        lifespan="off",
        **options,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        assert not task.done(), "uvicorn did not start"
        await asyncio.sleep(0.01)
    try:
        yield server.servers[0].sockets[0].getsockname()[1]
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, DEADLINE_S)


@asynccontextmanager
async def serving(app: Starlette) -> AsyncIterator[tuple[int, GraphQLView]]:
    """Serve app (its lifespan is the caller's to run); its port and GraphQL view."""
    view = next(
        route.endpoint for route in app.routes if isinstance(route, WebSocketRoute)
    )
    assert isinstance(view, GraphQLView)
    try:
        async with uvicorn_serving(app) as port:
            yield port, view
    finally:
        await view.live.pinger.close()
