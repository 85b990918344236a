"""WebSocket protocol handlers with server pings (graphql-transport-ws and legacy)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
)

from kimgraph.context import Context


class TransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """graphql-transport-ws, plus a protocol-level ping every interval once acked.

    Strawberry only answers pings; a village screen behind a NAT needs traffic both
    ways to keep its connection and to learn quickly that it is gone.
    """

    ping_task: asyncio.Task[None] | None = None

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        await super().handle_connection_init(message)
        if self.connection_acknowledged and self.ping_task is None:
            self.ping_task = asyncio.create_task(self._ping())

    async def _ping(self) -> None:
        interval = self._interval()
        while True:
            await asyncio.sleep(interval)
            await self.send_message({"type": "ping"})

    def _interval(self) -> float:
        settings: Any = getattr(self.view, "settings", None)
        return float(getattr(settings, "ws_ping_seconds", 15.0))

    async def shutdown(self) -> None:
        if self.ping_task is not None:
            self.ping_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.ping_task
        await super().shutdown()
