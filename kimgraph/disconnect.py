"""An HTTP request's work, cancelled when its client goes away.

uvicorn does not cancel an ASGI app whose client disconnected: it only answers
the app's next `receive()` with `http.disconnect`. An operation left running
for nobody would still hold a connection from the pool and the CPU for up to
its deadline (docs/performance.md, "Deadlines"), so the request's task waits
for that message beside its work and cancels the work when it comes. A
mutation cancelled there rolls back its transaction.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

from starlette.types import Receive

T = TypeVar("T")


class ClientGone(Exception):
    """The client disconnected before its response was ready; nothing to send."""


async def unless_disconnected(receive: Receive, work: Awaitable[T]) -> T:
    """work's result; raises ClientGone once the client disconnects.

    The request's body must have been read whole before: from then on the
    only message `receive()` can give is `http.disconnect` (ASGI 3), which
    uvicorn also gives once the response is complete, so the watch ends when
    the work does.
    """
    task = asyncio.current_task()
    assert task is not None
    gone = False

    async def watch() -> None:
        nonlocal gone
        while (await receive())["type"] != "http.disconnect":
            pass
        gone = True
        task.cancel()

    watcher = asyncio.create_task(watch())
    try:
        return await work
    except asyncio.CancelledError:
        if gone and task.uncancel() == 0:
            raise ClientGone from None
        raise
    finally:
        watcher.cancel()
