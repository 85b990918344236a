"""uvicorn's C-parser HTTP protocol, freed as soon as a WebSocket takes over.

`kimgraph serve` parses HTTP with httptools (uvicorn's `HttpToolsProtocol`):
h11's pure-Python parser was a third of the CPU of a cached board load
(docs/performance.md, "The HTTP read path"). That protocol and its parser
refer to each other, a cycle uvicorn breaks in `connection_lost`. After a
WebSocket upgrade the connection belongs to the WebSocket protocol, which gets
`connection_lost` instead, so the old HTTP protocol (its parser, flow control
and buffers) is left to the cyclic collector. In a serving process that
collector never sees it if `kimgraph.memory.Freezer` froze it mid-handshake:
it then waits for the next thaw (up to an hour). A third of the connections
of a 10,000-board resume storm left one so (`python -m bench.fanout --storm`
with `BENCH_HELD=1`), 1.6 KiB per live connection on average. HttpProtocol
drops its parser once it has handed the connection over, as uvicorn does on
`connection_lost`, so reference counting frees it at once.
"""

from __future__ import annotations

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class HttpProtocol(HttpToolsProtocol):
    """HttpToolsProtocol, its parser dropped once a WebSocket took over."""

    def handle_websocket_upgrade(self) -> None:
        super().handle_websocket_upgrade()
        # Nothing calls this protocol again: the transport now feeds the
        # WebSocket protocol, and data_received returns right after this.
        self.parser = None
