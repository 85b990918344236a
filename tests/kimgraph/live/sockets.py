"""Stand-ins for the sockets the live path writes to, and a wait for a condition."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator, Callable, Iterator
from types import FrameType
from typing import Any

from kimgraph.context import Context


class Socket:
    """A socket whose sends suspend while it is paused, like uvicorn's."""

    def __init__(self) -> None:
        self.written: list[str] = []
        self.closed: list[tuple[int, str]] = []
        self.writable = asyncio.Event()
        self.writable.set()
        self.gone = False

    async def send_text(self, frame: str) -> None:
        await self.writable.wait()
        if self.gone:
            raise OSError("client disconnected")
        self.written.append(frame)

    async def close(self, code: int, reason: str) -> None:
        await self.writable.wait()
        self.closed.append((code, reason))


async def until(condition: Callable[[], bool], deadline: float = 10.0) -> None:
    """Return once condition holds; fail after deadline seconds."""
    loop = asyncio.get_running_loop()
    give_up = loop.time() + deadline
    while not condition():
        assert loop.time() < give_up, "condition not met in time"
        await asyncio.sleep(0.001)


class LoopHeld(AssertionError):
    """Raised into whatever the main thread runs when a watchdog fires."""


@contextlib.contextmanager
def loop_watchdog(seconds: float) -> Iterator[None]:
    """Break a code path that holds the event loop for ever, instead of hanging.

    A busy loop never awaits, so no asyncio timeout can fire; a SIGALRM
    handler still runs between two bytecodes of it and raises LoopHeld there,
    which frees the loop and lets the test's own wait fail.
    """

    def fire(number: int, frame: FrameType | None) -> None:
        raise LoopHeld(f"the event loop was held for {seconds} s")

    previous = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


class Adapter:
    """Strawberry's WebSocket adapter, fed by the test."""

    def __init__(self) -> None:
        self.incoming: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self.sent: list[dict[str, Any]] = []
        self.closed: list[tuple[int, str]] = []
        self.ws = Socket()

    async def iter_json(
        self, ignore_parsing_errors: bool = False
    ) -> AsyncIterator[dict[str, Any]]:
        while (message := await self.incoming.get()) is not None:
            yield message

    async def send_json(self, message: dict[str, Any]) -> None:
        self.sent.append(message)

    async def close(self, code: int, reason: str) -> None:
        self.closed.append((code, reason))
        self.incoming.put_nowait(None)


async def accept(context: Context) -> None:
    """The view's on_ws_connect: every credential is good here."""
    return None
