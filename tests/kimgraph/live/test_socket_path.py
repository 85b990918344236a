"""A WebSocket to /graphql goes straight to the live view (kimgraph.app.App).

Starlette's error and exception middleware and its router each kept a frame and
closures alive for an idle board socket's whole life; the shortcut leaves them
out (docs/performance.md, "Memory per socket"). Every other path still goes
through the router.
"""

from __future__ import annotations

import asyncio
import gc
import json
import types

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from kimgraph.app import create_app
from kimgraph.clock import FixedClock
from kimgraph.settings import Settings
from tests.kimgraph.live.serving import DEADLINE_S, serving

# Frames of Starlette's stack that a socket on the shortcut does not hold.
SKIPPED = {
    "Starlette.__call__",
    "ServerErrorMiddleware.__call__",
    "ExceptionMiddleware.__call__",
    "Router.__call__",
    "Router.app",
    "WebSocketRoute.handle",
}


def waiting_frames() -> set[str]:
    """The qualified names of every coroutine alive in this process."""
    gc.collect()
    return {
        o.cr_code.co_qualname
        for o in gc.get_objects()
        if isinstance(o, types.CoroutineType)
    }


async def test_a_socket_to_graphql_is_served_past_the_router(
    ketapang: str, clock: FixedClock
) -> None:
    # given: the app served by uvicorn
    app = create_app(Settings(database_url=ketapang), clock, manage_database=False)
    async with serving(app) as (port, _):
        # when: a board's socket is acknowledged and waits
        ws = await connect(
            f"ws://127.0.0.1:{port}/graphql",
            subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
            proxy=None,
            open_timeout=DEADLINE_S,
        )
        try:
            await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
            ack = await asyncio.wait_for(ws.recv(decode=True), DEADLINE_S)
            assert json.loads(ack) == {"type": "connection_ack"}
            # then: the live view and the request log hold it, nothing between
            waiting = waiting_frames()
            assert "LiveView.__call__" in waiting
            assert "RequestLog._websocket" in waiting
            assert waiting & SKIPPED == set()
        finally:
            await ws.close()


async def test_a_socket_to_any_other_path_is_refused_by_the_router(
    ketapang: str, clock: FixedClock
) -> None:
    # given
    app = create_app(Settings(database_url=ketapang), clock, manage_database=False)
    async with serving(app) as (port, _):
        # when: a socket to a path with no WebSocket route
        with pytest.raises(InvalidStatus) as refused:
            await connect(
                f"ws://127.0.0.1:{port}/graphql/",
                subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
                proxy=None,
                open_timeout=DEADLINE_S,
            )
        # then: Starlette's router closed it before accepting, as before
        assert refused.value.response.status_code == 403
