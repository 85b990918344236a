"""Composition root: the Starlette app, its lifespan and its routes."""

from __future__ import annotations

import codecs
import gc
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from http import HTTPStatus

from cross_web import AsyncHTTPRequestAdapter, HTTPException
from starlette.applications import Starlette
from starlette.middleware.body_limit import RequestBodyLimitMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLRequestData
from strawberry.http.parse_content_type import parse_content_type
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL
from strawberry.types.unset import UNSET, UnsetType
from tortoise import Tortoise

from kimgraph import announcements, aspirations, board, db
from kimgraph.accounts.auth import InvalidCredentials, authenticate
from kimgraph.accounts.principals import ANONYMOUS
from kimgraph.announcements.queries import prepare_events
from kimgraph.api import SHAREABLE_FIELDS, build_schema
from kimgraph.aspirations.queries import prepare_events as prepare_aspiration_events
from kimgraph.clock import Clock, SystemClock
from kimgraph.context import Context
from kimgraph.events.bus import EventBus
from kimgraph.events.memory import MemoryBus
from kimgraph.events.redis_bus import RedisBus
from kimgraph.live import metrics
from kimgraph.live.connections import ConnectionRegistry
from kimgraph.live.credentials import CredentialCheck
from kimgraph.live.hub import Hub
from kimgraph.live.pinger import Pinger
from kimgraph.live.protocol import LiveDependencies, LiveView
from kimgraph.live.sharing import Sharing
from kimgraph.settings import Settings
from kimgraph.timers import TimerLoop

logger = logging.getLogger("kimgraph.app")

CONNECTION_INIT_TIMEOUT = timedelta(seconds=3)
GC_THRESHOLD = 50_000
MAX_OPERATIONS_PER_CONNECTION = 100


class GraphQLView(LiveView):
    """Strawberry's ASGI view with KIMgraph's context and authentication."""

    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        connections: ConnectionRegistry,
        hub: Hub,
    ) -> None:
        super().__init__(
            build_schema(settings),
            graphql_ide="graphiql",
            allow_queries_via_get=True,
            subscription_protocols=(
                GRAPHQL_TRANSPORT_WS_PROTOCOL,
                GRAPHQL_WS_PROTOCOL,
            ),
            connection_init_wait_timeout=CONNECTION_INIT_TIMEOUT,
            max_subscriptions_per_connection=MAX_OPERATIONS_PER_CONNECTION,
            allowed_origins=settings.allowed_origins,
            keep_alive=True,
            keep_alive_interval=settings.ws_ping_seconds,
        )
        self.settings = settings
        self.clock = clock
        self.connections = connections
        self.hub = hub
        self.live = LiveDependencies(
            settings,
            Sharing(self.schema, SHAREABLE_FIELDS),
            Pinger(settings.ws_ping_seconds),
        )

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        """An HTTP request: authenticated here; a bad credential executes nothing.

        Sockets go to the view directly (they authenticate in connection_init),
        so that an idle one holds no frame of this method.
        """
        request = Request(scope)
        try:
            principal = await authenticate(
                self.clock, request.headers.get("authorization")
            )
        except InvalidCredentials as exc:
            await _unauthenticated(str(exc))(scope, receive, send)
            return
        scope.setdefault("state", {})["principal"] = principal
        try:
            response = await self.run(Request(scope, receive))
        except HTTPException as exc:
            response = _refused(exc.reason, exc.status_code)
        await response(scope, receive, send)

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
        context.principal = principal
        if principal.credential is not None and isinstance(context.request, WebSocket):
            self.connections.add(principal.credential, context.request)
        bare_ack: UnsetType = UNSET
        return bare_ack


def _refused(message: str, status: int) -> Response:
    """A request refused before any operation ran, in a GraphQL response's shape."""
    code = HTTPStatus(status).name
    return JSONResponse(
        {"data": None, "errors": [{"message": message, "extensions": {"code": code}}]},
        status_code=status,
    )


def _unauthenticated(message: str) -> Response:
    return JSONResponse(
        {
            "data": None,
            "errors": [{"message": message, "extensions": {"code": "UNAUTHENTICATED"}}],
        },
        status_code=401,
        headers={"WWW-Authenticate": 'Bearer realm="kimgraph"'},
    )


async def healthz(request: Request) -> Response:
    """The process is up and serving."""
    return JSONResponse({"status": "ok"})


async def _database_ok() -> bool:
    try:
        await Tortoise.get_connection("default").execute_query("SELECT 1")
    except Exception:  # whatever the failure, the server is not ready
        logger.warning("readiness check: database unreachable", exc_info=True)
        return False
    return True


async def _bus_ok(hub: Hub) -> bool:
    try:
        return await hub.bus.ping()
    except Exception:  # whatever the failure, the bus is not usable
        logger.warning("readiness check: event bus unreachable", exc_info=True)
        return False


def _event_bus(settings: Settings) -> EventBus:
    """Redis pub/sub when several processes share the database, else in-process."""
    if settings.redis_url:
        return RedisBus(settings.redis_url)
    return MemoryBus()


def create_app(
    settings: Settings | None = None,
    clock: Clock | None = None,
    *,
    manage_database: bool = True,
    bus: EventBus | None = None,
) -> Starlette:
    """The ASGI application; reads the environment unless given settings (or bus)."""
    settings = settings or Settings.from_env()
    clock = clock or SystemClock()
    aspirations.redaction.install()
    hub = Hub(
        bus if bus is not None else _event_bus(settings),
        {
            announcements.STREAM: prepare_events,
            aspirations.STREAM: prepare_aspiration_events,
        },
        poll_interval=settings.event_poll_seconds,
        queue_size=settings.subscriber_queue_size,
    )
    timer_loop = TimerLoop(
        clock,
        hub.announce,
        {**announcements.TIMER_HANDLERS, **aspirations.TIMER_HANDLERS},
        interval=settings.timer_interval_seconds,
        retention=timedelta(days=settings.event_retention_days),
    )
    connections = ConnectionRegistry()
    credential_check = CredentialCheck(
        clock, connections, interval=settings.credential_check_seconds
    )
    view = GraphQLView(settings, clock, connections, hub)

    async def metrics_text(request: Request) -> Response:
        """Prometheus metrics of this process (kimgraph.metrics)."""
        body = metrics.render(
            metrics.Sources(hub, view.live.sharing), bus_up=await _bus_ok(hub)
        )
        return Response(body, media_type=metrics.CONTENT_TYPE)

    async def readyz(request: Request) -> Response:
        """200 while the database answers, 503 otherwise; the bus is only reported.

        Without its bus a process still delivers every event by polling the log,
        only later (docs/live-delivery.md). Redis down would be the same for every
        instance, so failing readiness on it would take them all out of the load
        balancer and turn slower delivery into no service.
        """
        database, bus = await _database_ok(), await _bus_ok(hub)
        status = "unavailable" if not database else "ok" if bus else "degraded"
        body = {
            "status": status,
            "database": "ok" if database else "unreachable",
            "eventBus": "ok" if bus else "unreachable (polling the event log)",
        }
        return JSONResponse(body, status_code=200 if database else 503)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if manage_database:
            await db.init(settings.database_url)
        await hub.bus.start()
        await hub.start()
        timer_loop.start()
        credential_check.start()
        # Start-up objects live as long as the process: keep them out of every
        # collection, and collect less often, so that a fan-out to thousands of
        # sockets is not stalled by a full pass over them (docs/performance.md).
        gc.collect()
        gc.freeze()
        gc.set_threshold(GC_THRESHOLD, 20, 20)
        try:
            yield
        finally:
            await credential_check.close()
            await view.live.pinger.close()
            await timer_loop.close()
            await hub.close()
            await hub.bus.close()
            if manage_database:
                await db.close()

    return Starlette(
        routes=[
            # The body limit only where bodies are read: an idle WebSocket
            # then holds no frame of it (every other route is GET).
            Route(
                "/graphql",
                RequestBodyLimitMiddleware(view.http, settings.max_body_bytes),
                methods=["GET", "POST"],
            ),
            WebSocketRoute("/graphql", view),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics_text),
            *board.routes(),
        ],
        lifespan=lifespan,
    )
