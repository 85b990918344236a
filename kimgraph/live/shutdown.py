"""On SIGTERM, a WebSocket accepted from then on is closed with 1012 at once.

uvicorn closes the sockets it holds when it starts to shut down with 1012
(Service Restart). A connection whose handshake it was still reading then is
not among them: accepted a moment later, nobody would close it, and uvicorn
would wait for it for ever (issue 16). KIMGRAPH_SHUTDOWN_TIMEOUT_SECONDS bounds
that wait; this closes such a socket as uvicorn closes the others, so a board
reconnects to another process at once (docs/live-delivery.md, "Shutting down").
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

from starlette.types import Message, Send

SERVICE_RESTART = 1012
_SIGNALS = (signal.SIGTERM, signal.SIGINT)
Handler = Callable[[int, FrameType | None], Any]


class Restart:
    """Whether this process has been told to stop (signals are per process)."""

    def __init__(self) -> None:
        self.started = False
        self._ours: set[Handler] = set()

    def install(self) -> None:
        """Notice SIGTERM and SIGINT before the server's own handler does.

        Called in the lifespan, where uvicorn's handlers are already set: ours
        marks the restart and calls theirs. Only the main thread may set
        handlers (a test client runs the app in another: nothing to notice).
        """
        if threading.current_thread() is not threading.main_thread():
            return
        for number in _SIGNALS:
            previous = signal.getsignal(number)
            if callable(previous) and previous not in self._ours:
                handler = self._noticing(previous)
                self._ours.add(handler)
                signal.signal(number, handler)

    def _noticing(self, previous: Handler) -> Handler:
        def noticed(number: int, frame: FrameType | None) -> None:
            self.started = True
            previous(number, frame)

        return noticed


RESTART = Restart()


def closing_on_restart(send: Send, restart: Restart = RESTART) -> Send:
    """A socket's send that closes it with 1012 if accepted once a restart began.

    What the application still sends after that goes nowhere; the client's
    answer to the close ends the socket as any close does.
    """
    closed = False

    async def send_unless_closed(message: Message) -> None:
        nonlocal closed
        if closed:
            return
        await send(message)
        if message["type"] == "websocket.accept" and restart.started:
            closed = True
            await send(
                {
                    "type": "websocket.close",
                    "code": SERVICE_RESTART,
                    "reason": "Service Restart",
                }
            )

    return send_unless_closed
