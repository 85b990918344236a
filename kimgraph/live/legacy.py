"""The legacy graphql-ws protocol, held to graphql-transport-ws's rules.

Strawberry's handler for the old subscriptions-transport-ws protocol waits for
`connection_init` forever, accepts any number of them and starts a keep-alive
task for each (20,000 inits on one socket: 20,000 tasks sending `ka`). Here,
as on graphql-transport-ws (docs/live-delivery.md, "The legacy protocol"):
`connection_init` within the view's timeout (3 s) or the socket is closed with
4408, one per socket (a second closes it with 4429), `ka` from the process's
one pinger, and the socket counted in /metrics. KIMGRAPH_LEGACY_WS=0 turns
the protocol off altogether.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, ClassVar

from strawberry.schema.base import BaseSchema
from strawberry.subscriptions.protocols.graphql_ws.handlers import (
    BaseGraphQLWSHandler,
)
from strawberry.subscriptions.protocols.graphql_ws.types import (
    ConnectionInitMessage,
    OperationMessage,
)

from kimgraph.context import Context
from kimgraph.live.outbox import Outbox, socket_outbox
from kimgraph.live.pinger import KA
from kimgraph.outage import CLOSE_TRY_AGAIN, DatabaseUnavailableError
from kimgraph.presence import board_connected

if TYPE_CHECKING:
    from strawberry.http.async_base_view import AsyncWebSocketAdapter

    from kimgraph.live.view import LiveView

CLOSE_INIT_TIMEOUT = 4408
CLOSE_TOO_MANY_INITS = 4429


class LegacyWSHandler(BaseGraphQLWSHandler[Context, None]):
    """graphql-ws with an init timeout, one init per socket, and shared pings."""

    # For /metrics: legacy connections of this process open now, and the
    # `data` messages they were sent.
    open_connections: ClassVar[int] = 0
    data_messages: ClassVar[int] = 0

    def __init__(
        self,
        view: LiveView,
        websocket: AsyncWebSocketAdapter,
        context: Context,
        root_value: None,
        schema: BaseSchema,
        keep_alive: bool,
        keep_alive_interval: float | None,
        max_subscriptions_per_connection: int | None = None,
    ) -> None:
        # No keep-alive task of Strawberry's: the pinger sends `ka`.
        super().__init__(
            view,
            websocket,
            context,
            root_value,
            schema,
            False,
            None,
            max_subscriptions_per_connection,
        )
        self.live = view.live
        self.init_timeout = view.connection_init_wait_timeout.total_seconds()
        self.connection_init_received = False
        self._outbox: Outbox | None = None
        self._init_timer: asyncio.TimerHandle | None = None

    async def handle(self) -> None:
        LegacyWSHandler.open_connections += 1
        # A loop timer, as on graphql-transport-ws: no sleeping task per socket.
        self._init_timer = asyncio.get_running_loop().call_later(
            self.init_timeout, self._init_timed_out
        )
        try:
            await super().handle()
        finally:
            LegacyWSHandler.open_connections -= 1
            self._cancel_init_timer()
            if self._outbox is not None:
                self.live.pinger.discard(self._outbox)
                await self._outbox.close()

    def _init_timed_out(self) -> None:
        self._init_timer = None
        if not self.connection_init_received:
            task = asyncio.create_task(
                _close(
                    self.websocket,
                    CLOSE_INIT_TIMEOUT,
                    "Connection initialisation timeout",
                )
            )
            _CLOSING.add(task)
            task.add_done_callback(_CLOSING.discard)

    def _cancel_init_timer(self) -> None:
        if self._init_timer is not None:
            self._init_timer.cancel()
            self._init_timer = None

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        if self.connection_init_received:
            await self.websocket.close(
                CLOSE_TOO_MANY_INITS, "Too many initialisation requests"
            )
            return
        self.connection_init_received = True
        self._cancel_init_timer()
        try:
            await super().handle_connection_init(message)
        except DatabaseUnavailableError as exc:
            await self.websocket.close(CLOSE_TRY_AGAIN, str(exc))
            return
        if self.connection_acknowledged:
            board_connected(self.context)  # kimgraph.presence
            outbox = self._outbox_for_socket()
            # The first `ka` at once, as Strawberry's own keep-alive did.
            outbox.put(*KA)
            self.live.pinger.add(outbox, KA)

    def _outbox_for_socket(self) -> Outbox:
        if self._outbox is None:
            size = self.live.settings.subscriber_queue_size
            self._outbox = socket_outbox(self, size)
        return self._outbox

    async def send_message(self, message: OperationMessage) -> None:
        if message["type"] == "data":
            LegacyWSHandler.data_messages += 1
        await super().send_message(message)


# Closes started from a timer, kept until done.
_CLOSING: set[asyncio.Task[None]] = set()


async def _close(websocket: AsyncWebSocketAdapter, code: int, reason: str) -> None:
    # The client may have gone meanwhile: then there is nothing to close.
    with contextlib.suppress(Exception):
        await websocket.close(code, reason)
