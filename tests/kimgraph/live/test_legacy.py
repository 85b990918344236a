"""The legacy graphql-ws handler: init timeout, one init, shared pings, counted."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from types import SimpleNamespace
from typing import Any, cast

from kimgraph.context import Context
from kimgraph.live.legacy import LegacyWSHandler
from kimgraph.live.pinger import KA_FRAME, Pinger
from kimgraph.settings import Settings
from tests.kimgraph.live.sockets import Adapter, accept, until


def handler(adapter: Adapter, pinger: Pinger, init_seconds: float) -> LegacyWSHandler:
    view = SimpleNamespace(
        live=SimpleNamespace(settings=Settings(), pinger=pinger),
        connection_init_wait_timeout=timedelta(seconds=init_seconds),
        on_ws_connect=accept,
    )
    return LegacyWSHandler(
        cast(Any, view),
        cast(Any, adapter),
        Context(settings=Settings()),
        None,
        cast(Any, None),
        keep_alive=True,
        keep_alive_interval=15.0,
    )


async def test_a_silent_socket_is_closed_with_4408_after_the_init_timeout() -> None:
    # given: a socket that says nothing, with the timeout injected small
    adapter, pinger = Adapter(), Pinger(interval=60.0)
    before = LegacyWSHandler.open_connections
    task = asyncio.ensure_future(handler(adapter, pinger, 0.01).handle())
    await until(lambda: LegacyWSHandler.open_connections == before + 1)
    # then
    await asyncio.wait_for(task, 10)
    assert adapter.closed == [(4408, "Connection initialisation timeout")]
    assert adapter.sent == []
    assert LegacyWSHandler.open_connections == before


async def test_one_init_is_acknowledged_and_a_second_closes_with_4429() -> None:
    # given: an acknowledged socket, kept alive by the pinger (not a task of its own)
    adapter, pinger = Adapter(), Pinger(interval=60.0)
    task = asyncio.ensure_future(handler(adapter, pinger, 10.0).handle())
    adapter.incoming.put_nowait({"type": "connection_init", "payload": {}})
    await until(lambda: len(pinger) == 1)
    assert adapter.sent == [{"type": "connection_ack"}]
    assert adapter.ws.written == [KA_FRAME]
    # when: it sends connection_init again
    adapter.incoming.put_nowait({"type": "connection_init", "payload": {}})
    await asyncio.wait_for(task, 10)
    # then: closed with 4429, nothing more sent, and the pinger forgot it
    assert adapter.closed == [(4429, "Too many initialisation requests")]
    assert adapter.sent == [{"type": "connection_ack"}]
    assert len(pinger) == 0
    await pinger.close()
