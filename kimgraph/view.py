"""The GraphQL endpoint: Strawberry's view with KIMgraph's HTTP and WebSocket rules.

Over HTTP it authenticates, refuses malformed bodies with 400, answers in the
media type Accept asks for (kimgraph.graphql_http), gives rate-limited requests
429 and cancels an operation whose client went away; it streams subscriptions
as server-sent events or multipart parts (kimgraph.live.http_streams). Sockets
authenticate in connection_init and take the live path (kimgraph.live.protocol).
"""

from __future__ import annotations

import codecs
import functools
import json
from collections.abc import Mapping
from datetime import timedelta

from cross_web import AsyncHTTPRequestAdapter, HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry import Schema
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.base import BaseRequestProtocol
from strawberry.http.parse_content_type import parse_content_type
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL
from strawberry.types import ExecutionResult, SubscriptionExecutionResult
from strawberry.types.graphql import OperationType
from strawberry.types.unset import UNSET, UnsetType

from kimgraph import batches, graphiql, idempotency, outage
from kimgraph.accounts.auth import InvalidCredentials, authenticate
from kimgraph.accounts.principals import ANONYMOUS
from kimgraph.clock import Clock
from kimgraph.context import Context
from kimgraph.disconnect import ClientGone, unless_disconnected
from kimgraph.graphql_http import (
    as_graphql_response,
    is_request_error,
    prefers_graphql_response,
    unauthenticated,
)
from kimgraph.graphql_http import refused as refused_response
from kimgraph.live import http_streams, http_transports
from kimgraph.live.addresses import ConnectionsPerAddress
from kimgraph.live.connections import ConnectionRegistry
from kimgraph.live.hub import Hub
from kimgraph.live.pinger import Pinger
from kimgraph.live.shape import ViewOf
from kimgraph.live.sharing import Sharing
from kimgraph.live.view import LiveDependencies, LiveView
from kimgraph.rate_limit import refusals
from kimgraph.read_cache import ReadCache
from kimgraph.settings import Settings

CONNECTION_INIT_TIMEOUT = timedelta(seconds=3)
MAX_OPERATIONS_PER_CONNECTION = 100


class GraphQLView(LiveView):
    """Strawberry's ASGI view with KIMgraph's context and authentication."""

    # Subscriptions over HTTP: only they stream, with KIMgraph's heartbeats.
    stream_transport_classes_by_protocol = http_transports.TRANSPORTS

    def __init__(
        self,
        schema: Schema,
        shareable_fields: Mapping[str, ViewOf],
        settings: Settings,
        clock: Clock,
        connections: ConnectionRegistry,
        hub: Hub,
    ) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if settings.graphiql else None,
            allow_queries_via_get=True,
            # The legacy protocol unless KIMGRAPH_LEGACY_WS=0: a client asking
            # only for it is then closed with 4406 (docs/live-delivery.md).
            subscription_protocols=(
                (GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL)
                if settings.legacy_ws
                else (GRAPHQL_TRANSPORT_WS_PROTOCOL,)
            )
            + http_transports.PROTOCOLS,
            connection_init_wait_timeout=CONNECTION_INIT_TIMEOUT,
            max_subscriptions_per_connection=MAX_OPERATIONS_PER_CONNECTION,
            allowed_origins=settings.allowed_origins,
            # No keep-alive task per legacy socket: the pinger sends its `ka`.
            keep_alive=False,
        )
        self.settings = settings
        self.clock = clock
        self.connections = connections
        self.hub = hub
        # Public query answers between two events (kimgraph.read_cache).
        self.read_cache: ReadCache = getattr(schema, "read_cache", ReadCache(0))
        self.read_cache.follow(lambda: hub.position, clock)
        self.live = LiveDependencies(
            settings,
            Sharing(self.schema, shareable_fields),
            Pinger(settings.ws_ping_seconds),
            ConnectionsPerAddress(settings.ws_max_per_address),
        )

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        """An HTTP request: authenticated here; a bad credential executes nothing.

        Sockets go to the view directly (they authenticate in connection_init),
        so that an idle one holds no frame of this method.
        """
        request = Request(scope)
        graphql_response = prefers_graphql_response(request.headers.get("accept"))
        try:
            principal = await authenticate(
                self.clock, request.headers.get("authorization")
            )
        except InvalidCredentials as exc:
            await unauthenticated(str(exc), graphql_response)(scope, receive, send)
            return
        except Exception as exc:
            if not outage.is_outage(exc):
                raise
            # Not the caller's fault: 503, retried (kimgraph.outage).
            outage.unavailable(exc, "authenticating a request")
            response = refused_response(outage.MESSAGE, 503, graphql_response)
            response.headers["Retry-After"] = str(outage.RETRY_AFTER_SECONDS)
            await response(scope, receive, send)
            return
        scope.setdefault("state", {})["principal"] = principal
        stream = http_transports.streaming_protocol(request.headers.get("accept"))
        if stream is None:
            key = request.headers.get(idempotency.HEADER)
            if key is None:
                await self._answer(scope, receive, send, graphql_response)
                return
            # A mutation sent again with its key is applied once (docs/http.md).
            await idempotency.answer_once(
                functools.partial(self._answer, graphql_response=graphql_response),
                scope, receive, send, key=key, principal=principal, clock=self.clock,
                graphql_response=graphql_response,
            )  # fmt: skip
            return
        # A subscription stream counts like a socket (docs/live-delivery.md).
        admission = http_streams.Admission(
            stream, self.live.addresses, self.connections, principal.credential
        )
        with admission.counted(scope) as admitted:
            if admitted:
                await self._answer(scope, receive, send, graphql_response)
                return
        response = refused_response(http_streams.AT_THE_CAP, 429)
        response.headers["Retry-After"] = str(http_streams.RETRY_AT_THE_CAP)
        await response(scope, receive, send)

    async def _answer(
        self, scope: Scope, receive: Receive, send: Send, graphql_response: bool
    ) -> None:
        request = Request(scope)
        with refusals.collecting() as refused:
            try:
                request = Request(scope, receive)
                await request.body()  # whole, before watching for a disconnect
                response = await self.read_cache.hit(request)
                if response is None:
                    response = await unless_disconnected(receive, self.run(request))
                    self.read_cache.keep(request, response)
            except HTTPException as exc:
                response = refused_response(
                    exc.reason, exc.status_code, graphql_response
                )
            except ClientGone:
                return  # the operation was cancelled (kimgraph.disconnect)
        if graphql_response:
            as_graphql_response(request, response)
        # The media type of the answer follows Accept (kimgraph.graphql_http).
        response.headers.add_vary_header("Accept")
        if refused.whole and response.status_code == 200:
            # Rate-limited: same body, status 429 (kimgraph.rate_limit.refusals).
            response.status_code = 429
            response.headers["Retry-After"] = str(refused.retry_after)
        await response(scope, receive, send)

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        """The response body; also judges whether rate limits refused it whole."""
        refused = refusals.current()
        if refused is not None:
            refused.settle(result.data, bool(result.errors))
        body = await super().process_result(request, result)
        if is_request_error(result) and prefers_graphql_response(
            request.headers.get("accept")
        ):
            # Nothing executed: no `data` entry, and 400 (as_graphql_response).
            del body["data"]
            request.state.graphql_request_error = True
        return body

    async def execute_operation(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        request_data: GraphQLRequestData | list[GraphQLRequestData],
        context: Context,
        root_value: None,
        sub_response: Response,
    ) -> ExecutionResult | list[ExecutionResult] | SubscriptionExecutionResult:
        """One operation (streamed if it is a subscription), or a batch of queries.

        Only subscriptions stream (kimgraph.live.http_streams); a batch runs
        as kimgraph.batches says.
        """
        if not isinstance(request_data, list):
            if reason := http_transports.refuse_unless_subscription(request_data):
                raise HTTPException(400, reason)
            result = await super().execute_operation(
                request, request_adapter, request_data, context, root_value,
                sub_response,
            )  # fmt: skip
            if isinstance(result, ExecutionResult | list):
                return result
            # Streamed (kimgraph.live.http_streams): told if its reader fell
            # behind, ended if its credential is revoked.
            signed_in = getattr(request.state, "signed_in_stream", None)
            return http_streams.watched(result, signed_in)
        return await batches.run(self.schema, request_data, context, root_value)

    async def execute_single(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        """One operation; a subscription without a streaming Accept says what works."""
        try:
            return await super().execute_single(
                request, request_adapter, sub_response, context, root_value,
                request_data,
            )  # fmt: skip
        except HTTPException as exc:
            cause = exc.__cause__
            if (
                isinstance(cause, InvalidOperationTypeError)
                and cause.operation_type is OperationType.SUBSCRIPTION
            ):
                message = http_streams.SUBSCRIPTION_NEEDS_STREAM
                raise HTTPException(400, message) from None
            raise

    async def render_graphql_ide(self, request: Request) -> Response:
        """KIMgraph's own GraphiQL page, not Strawberry's CDN one (docs/http.md)."""
        return graphiql.page_response()

    def decode_json(self, data: str | bytes) -> object:
        """JSON as the standard library reads it; 400 if it cannot be read at all.

        Strawberry answers JSONDecodeError with 400 itself, but not a body
        that is no text in any encoding JSON allows, nor one nested deeper than
        the parser recurses (the body limit bounds its length, not its depth).
        """
        try:
            return json.loads(data)
        except UnicodeDecodeError:
            raise HTTPException(400, "The request body is not UTF-8 text") from None
        except RecursionError:
            raise HTTPException(400, "The request body nests too deeply") from None

    async def parse_http_body(
        self, request: AsyncHTTPRequestAdapter
    ) -> GraphQLRequestData | list[GraphQLRequestData]:
        """The request's operation; 400 for a JSON body that is no object.

        Strawberry reads a JSON body's fields with dict.get, so a scalar body
        (null, 42, "x", true) would fail inside it; an object, or a batch
        (an array, which it refuses), begins with "{" or "[".
        """
        content_type, _ = parse_content_type(request.content_type or "")
        if request.method == "POST" and "application/json" in content_type:
            body = await request.get_body()
            text = body.removeprefix(codecs.BOM_UTF8).lstrip(b" \t\r\n")
            if not text.startswith((b"{", b"[")):
                raise HTTPException(
                    400, "The request body must be a JSON object with a query"
                )
        return await super().parse_http_body(request)

    def should_render_graphql_ide(self, request: BaseRequestProtocol) -> bool:
        """Not for a GET carrying only a persisted query's hash (kimgraph.persisted).

        Apollo clients send such a GET with `Accept: */*`, which Strawberry
        would answer with the IDE.
        """
        return "extensions" not in request.query_params and (
            super().should_render_graphql_ide(request)
        )

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        principal = getattr(request.state, "principal", ANONYMOUS)
        return Context(
            settings=self.settings,
            clock=self.clock,
            principal=principal,
            request=request,
            connections=self.connections,
            hub=self.hub,
        )

    async def on_ws_connect(self, context: Context) -> UnsetType | None:
        params = context.connection_params or {}
        authorization = next(
            (v for k, v in params.items() if k.lower() == "authorization"), None
        )
        if authorization is not None and not isinstance(authorization, str):
            raise ConnectionRejectionError(
                {"message": "authorization must be a string"}
            )
        try:
            principal = await authenticate(self.clock, authorization)
        except InvalidCredentials as exc:
            raise ConnectionRejectionError({"message": str(exc)}) from None
        except Exception as exc:
            if not outage.is_outage(exc):
                raise
            # Closed with 1013 by the socket's handler (kimgraph.outage).
            raise outage.unavailable(exc, "authenticating a WebSocket") from None
        context.principal = principal
        if principal.credential is not None and isinstance(context.request, WebSocket):
            self.connections.add(principal.credential, context.request)
        bare_ack: UnsetType = UNSET
        return bare_ack
