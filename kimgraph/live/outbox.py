"""A connection's bounded queue of frames, written at once whenever it can be."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Coroutine, Generator
from typing import Any, Protocol

from starlette.websockets import WebSocketDisconnect

from kimgraph.live.direct_write import DirectWriter, text_frame
from kimgraph.live.event_outages import close_try_again
from kimgraph.live.slow_consumers import close_slow_consumer

logger = logging.getLogger("kimgraph.live.outbox")

# What a send to a socket that has gone raises (uvicorn, Starlette).
SOCKET_GONE = (OSError, RuntimeError, WebSocketDisconnect)


class Socket(Protocol):
    """Where an outbox writes: Starlette's WebSocket."""

    def send_text(self, data: str) -> Coroutine[Any, Any, None]: ...

    def close(self, code: int, reason: str) -> Coroutine[Any, Any, None]: ...


class Direct(Protocol):
    """Writes an encoded frame to the socket's transport now, if it may."""

    def write(self, data: bytes, messages: int = 1) -> bool: ...

    async def writable(self) -> None: ...


class _Suspended:
    """Awaiting this finishes a coroutine that was started by hand and suspended."""

    __slots__ = ("_coroutine", "_yielded")

    def __init__(self, coroutine: Coroutine[Any, Any, None], yielded: Any) -> None:
        self._coroutine = coroutine
        self._yielded = yielded

    def __await__(self) -> Generator[Any, Any, None]:
        coroutine, value = self._coroutine, self._yielded
        while True:
            try:
                sent = yield value
            except GeneratorExit:
                coroutine.close()
                raise
            except BaseException as exc:  # noqa: BLE001 - cancellation too: pass it on
                try:
                    value = coroutine.throw(exc)
                except StopIteration:
                    return
            else:
                try:
                    value = coroutine.send(sent)
                except StopIteration:
                    return


class Outbox:
    """A connection's bounded queue of frames.

    A frame for a socket that is writable and has nothing queued is written at
    once, in the caller's step: its encoded bytes straight to the transport
    where that is allowed (kimgraph.live.direct_write), else through the ASGI
    send, whose coroutine is stepped by hand: uvicorn only suspends a send while
    the transport is paused, so it usually finishes without a task, a future or
    a loop wake-up. A send that does suspend is finished by a writer task, which
    then drains what queued up meanwhile; beyond `size` waiting frames (the
    subscriber queue size setting) the socket is closed as a slow consumer. An
    idle socket holds no task and no queue.
    """

    __slots__ = (
        "_direct",
        "_frames",
        "_size",
        "_socket",
        "_writer",
        "closed",
        "overflowed",
    )

    def __init__(self, socket: Socket, size: int, direct: Direct | None = None) -> None:
        self._socket = socket
        self._direct = direct
        self._size = size
        # Only while a send is suspended (an empty deque costs ~600 bytes).
        self._frames: deque[str] | None = None
        self._writer: asyncio.Task[None] | None = None
        self.overflowed = False
        # The socket refused a send (it is gone): nothing more is written.
        self.closed = False

    @property
    def waiting(self) -> int:
        """Frames queued behind a send that has not finished."""
        return 0 if self._frames is None else len(self._frames)

    @property
    def size(self) -> int:
        """Frames that may wait before the socket is closed with 1013."""
        return self._size

    def give_up(self) -> None:
        """Close the socket with 1013 now: its reader fell too far behind."""
        if self.overflowed or self.closed:
            return
        self.overflowed = True
        self._frames = None
        writer = self._writer
        if writer is not None:
            writer.cancel()
        self._writer = asyncio.create_task(close_slow_consumer(self._socket))

    def try_again(self) -> None:
        """Close the socket with 1013 now: an event for it could not be read.

        The client resumes from its last cursor (kimgraph.live.event_outages);
        nothing more is written, as after give_up().
        """
        if self.overflowed or self.closed:
            return
        self.overflowed = True
        self._frames = None
        writer = self._writer
        if writer is not None:
            writer.cancel()
        self._writer = asyncio.create_task(close_try_again(self._socket))

    async def room(self) -> None:
        """Return once a frame would go out at once (or nothing more is written).

        Nothing queued behind a send, and the transport not paused: a long
        catch-up waits here between slices, so that each slice goes out in one
        direct write instead of falling back to one send per frame.
        """
        while self._writer is not None and not (self.overflowed or self.closed):
            await asyncio.wait({self._writer})
        if self._direct is not None and not (self.overflowed or self.closed):
            await self._direct.writable()

    def put(self, frame: str, wire: bytes | None = None) -> None:
        """Write or queue a frame; a full queue closes the socket with 1013.

        `wire` is the frame already encoded as a WebSocket text frame.
        """
        if self.overflowed or self.closed:
            return
        if self._writer is None:
            if self._direct is not None and self._direct.write(
                text_frame(frame) if wire is None else wire
            ):
                return
            coroutine = self._socket.send_text(frame)
            try:
                yielded = coroutine.send(None)
            except StopIteration:
                return
            except SOCKET_GONE:  # its handler ends the connection
                self._refused()
                return
            self._frames = deque()
            self._writer = asyncio.create_task(self._finish(coroutine, yielded))
            return
        assert self._frames is not None
        if len(self._frames) >= self._size:
            self.give_up()  # the close takes the writer's place
            return
        self._frames.append(frame)

    def put_all(self, frames: list[str], wire: bytes | None) -> None:
        """Write or queue frames in order; `wire` is all of them encoded, if known.

        A socket with nothing waiting that the direct writer may write to gets
        them in one write (a catch-up of twenty frames: one system call).
        """
        if (
            wire is not None
            and self._writer is None
            and not (self.overflowed or self.closed)
            and self._direct is not None
            and self._direct.write(wire, len(frames))
        ):
            return
        for frame in frames:
            self.put(frame)

    def _refused(self) -> None:
        self.closed = True
        self._frames = None
        logger.debug("a subscriber's socket refused a frame", exc_info=True)

    async def _finish(self, coroutine: Coroutine[Any, Any, None], yielded: Any) -> None:
        try:
            await _Suspended(coroutine, yielded)
            while self._frames:
                await self._socket.send_text(self._frames.popleft())
        except SOCKET_GONE:
            self._refused()
        finally:
            if not self.overflowed:
                self._writer = None
                self._frames = None

    async def close(self) -> None:
        """The connection ends: stop writing, but let a 1013 close go out.

        The application returning makes uvicorn close the transport, so a
        1013 still waiting for a paused transport would never reach the client
        (it would see the connection drop without a reason). It is waited for:
        the client reading, or uvicorn's keepalive timeout, ends that wait.
        """
        writer = self._writer
        if writer is None:
            return
        if not self.overflowed:
            writer.cancel()
        await asyncio.wait({writer})
        if not writer.cancelled() and writer.exception() is not None:
            logger.debug("closing a subscriber failed", exc_info=writer.exception())


def socket_outbox(handler: Any, size: int) -> Outbox:
    """The outbox of a Strawberry handler's socket, writing directly where it may."""
    socket = handler.websocket.ws
    return Outbox(socket, size, DirectWriter.for_socket(socket))
