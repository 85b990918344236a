"""The GraphQL view's live side: socket handlers, capped sockets, shared HTTP streams.

LiveView is Strawberry's ASGI view with the dependencies every socket's handler
is handed (LiveDependencies): graphql-transport-ws sockets go to
kimgraph.live.protocol, legacy graphql-ws ones to kimgraph.live.legacy; each
socket counts against its address's cap (KIMGRAPH_WS_MAX_PER_ADDRESS); a
subscription streamed over HTTP that may share a run joins the sockets' group
(kimgraph.live.http_streams.SharedStream).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from dataclasses import dataclass

from cross_web import AsyncHTTPRequestAdapter
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLRequestData
from strawberry.types import ExecutionResult, SubscriptionExecutionResult

from kimgraph.context import Context
from kimgraph.live import http_streams, http_transports
from kimgraph.live.addresses import ConnectionsPerAddress
from kimgraph.live.legacy import LegacyWSHandler
from kimgraph.live.member import event_position
from kimgraph.live.pinger import Pinger
from kimgraph.live.protocol import TransportWSHandler
from kimgraph.live.sharing import Sharing
from kimgraph.live.shutdown import closing_on_restart
from kimgraph.settings import Settings

# The logger the view had when it lived in kimgraph.live.protocol.
logger = logging.getLogger("kimgraph.live.protocol")


@dataclass(frozen=True, slots=True)
class LiveDependencies:
    """What every socket's handler is handed by its view."""

    settings: Settings
    sharing: Sharing
    pinger: Pinger
    addresses: ConnectionsPerAddress


class LiveView(GraphQL[Context, None]):
    """Strawberry's ASGI view whose sockets' handlers get its live dependencies."""

    graphql_transport_ws_handler_class = TransportWSHandler
    graphql_ws_handler_class = LegacyWSHandler
    # Set by the subclass's __init__, once it has its schema.
    live: LiveDependencies

    async def execute_operation(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        request_data: GraphQLRequestData | list[GraphQLRequestData],
        context: Context,
        root_value: None,
        sub_response: Response,
    ) -> ExecutionResult | list[ExecutionResult] | SubscriptionExecutionResult:
        """A subscription streamed over HTTP joins the sockets' shared group.

        If it may share a run (kimgraph.live.shape), it is a member like a
        socket's operation, resumed by the same catch-up
        (kimgraph.live.http_streams.SharedStream); anything else runs on
        Strawberry's own path.
        """

        def own() -> Awaitable[
            ExecutionResult | list[ExecutionResult] | SubscriptionExecutionResult
        ]:
            return super(LiveView, self).execute_operation(
                request, request_adapter, request_data, context, root_value,
                sub_response,
            )  # fmt: skip

        if (
            isinstance(request_data, GraphQLRequestData)
            and request_data.protocol in http_transports.STREAMED
            and isinstance(request_data.query, str)
        ):
            sharing = self.live.sharing
            shape = sharing.shape(
                request_data.query,
                request_data.variables,
                request_data.operation_name,
                context.principal,
            )
            if shape is not None:
                variables = request_data.variables or {}
                cursor = (
                    variables.get(shape.after_variable)
                    if shape.after_variable is not None
                    else None
                )
                if cursor is None or event_position(cursor) is not None:
                    return http_streams.SharedStream(
                        sharing,
                        shape,
                        context,
                        cursor,
                        own,
                        self.live.settings.subscriber_queue_size,
                    )
        return await own()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A WebSocket is counted against its address's cap for all its life.

        Past KIMGRAPH_WS_MAX_PER_ADDRESS open sockets from one address (an
        IPv6 /64), the handshake is refused with HTTP 403, before any upgrade:
        every client reports a failed connection and retries with its backoff
        (docs/live-delivery.md, "Connections per address"). The count is
        released however the socket ends.
        """
        if scope["type"] != "websocket":
            await super().__call__(scope, receive, send)
            return
        client = scope.get("client")
        addresses = self.live.addresses
        key = addresses.open(client[0] if client else None)
        if key is None:
            # Counted in /metrics; a flood of refusals must not flood the log.
            logger.debug("refused a WebSocket: its address is at the cap")
            await send({"type": "websocket.close", "code": 1008, "reason": ""})
            return
        try:
            # Accepted once SIGTERM came: closed with 1012 (kimgraph.live.shutdown).
            await super().__call__(scope, receive, closing_on_restart(send))
        finally:
            addresses.release(key)
