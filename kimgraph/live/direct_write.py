"""Writing one encoded WebSocket frame to many uvicorn sockets.

A fan-out sends the same frame to thousands of sockets. Through the ASGI
`send` each of them pays Starlette's state checks, uvicorn's send and the
websockets protocol's UTF-8 encoding and framing of the same text again. Like
`websockets.broadcast`, this encodes the frame once and hands the bytes to each
socket's transport, but only where that is exactly what uvicorn would write:
uvicorn's sans-I/O websockets protocol, the connection open, no fragmented
message in progress, no compression extension (permessage-deflate frames
depend on each connection's compressor state) and the transport not paused
(flow control). Otherwise the caller falls back to the ASGI `send`, which is
also what happens under any other server or WebSocket implementation.

Middleware may wrap the socket's `receive` (kimgraph.request_log does): a
wrapper that names what it wraps in `__wrapped__` is looked through to find
uvicorn's protocol, and one with a `tally` is told how many messages went out
directly, so that the access line still counts them. A wrapper without
`__wrapped__` hides the protocol, and every frame then takes the ASGI `send`:
that silently cost the fan-out at 10,000 subscribers 1.8x its time
(bench/RESULTS.md, "Run 6").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import (
    WebSocketsSansIOProtocol,
)
from websockets.frames import Frame, Opcode
from websockets.protocol import State


def text_frame(text: str) -> bytes:
    """A server's (unmasked, uncompressed, final) text frame carrying `text`."""
    return Frame(Opcode.TEXT, text.encode()).serialize(mask=False, extensions=[])


class DirectWriter:
    """Writes encoded frames to one uvicorn WebSocket's transport, when it may."""

    __slots__ = ("_protocol", "_tally")

    def __init__(
        self,
        protocol: WebSocketsSansIOProtocol,
        tally: Callable[[int], None] | None = None,
    ) -> None:
        self._protocol = protocol
        self._tally = tally

    @classmethod
    def for_socket(cls, socket: Any) -> DirectWriter | None:
        """The writer for an accepted Starlette WebSocket, or None if it has none.

        Starlette hands the application uvicorn's own `receive`, a method of
        the connection's protocol object (or a wrapper of it, see above), which
        is how it is found here.
        """
        protocol, tally = None, None
        for receive in _wrapped(getattr(socket, "_receive", None)):
            tally = tally or getattr(receive, "tally", None)
            protocol = getattr(receive, "__self__", None)
            if isinstance(protocol, WebSocketsSansIOProtocol):
                break
        if not isinstance(protocol, WebSocketsSansIOProtocol):
            return None
        if not protocol.handshake_complete or protocol.conn.extensions:
            return None
        return cls(protocol, tally)

    async def writable(self) -> None:
        """Until flow control lets the transport take more (or the socket is gone).

        uvicorn sets the event when the transport resumes writing and when the
        connection is lost, so this never waits for a socket that has gone.
        """
        await self._protocol.writable.wait()

    def write(self, data: bytes, messages: int = 1) -> bool:
        """Write encoded frames now (`messages` of them); False if only the ASGI
        send may."""
        protocol = self._protocol
        if (
            protocol.close_sent
            or protocol.disconnected
            or not protocol.writable.is_set()
            or protocol.transport.is_closing()
        ):
            return False
        connection = protocol.conn
        if connection.state is not State.OPEN or connection.expect_continuation_frame:
            return False
        protocol.transport.write(data)
        if self._tally is not None:
            self._tally(messages)
        return True


def _wrapped(function: Any) -> list[Any]:
    """A function and, through `__wrapped__`, each one it wraps (at most 8)."""
    chain: list[Any] = []
    while function is not None and len(chain) < 8:
        chain.append(function)
        function = getattr(function, "__wrapped__", None)
    return chain
