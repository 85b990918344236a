"""The app served by a real uvicorn in the test's own event loop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute

from kimgraph.view import GraphQLView

DEADLINE_S = 30.0


@asynccontextmanager
async def serving(app: Starlette) -> AsyncIterator[tuple[int, GraphQLView]]:
    """Serve app (its lifespan is the caller's to run); its port and GraphQL view."""
    view = next(
        route.endpoint for route in app.routes if isinstance(route, WebSocketRoute)
    )
    assert isinstance(view, GraphQLView)
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, ws="websockets-sansio", lifespan="off"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        assert not task.done(), "uvicorn did not start"
        await asyncio.sleep(0.01)
    try:
        yield server.servers[0].sockets[0].getsockname()[1], view
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, DEADLINE_S)
        await view.live.pinger.close()
