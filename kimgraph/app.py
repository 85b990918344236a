"""Composition root: the Starlette app, its lifespan and its routes."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from starlette._utils import get_route_path
from starlette.applications import Starlette
from starlette.middleware.body_limit import RequestBodyLimitMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import Receive, Scope, Send
from tortoise import Tortoise

from kimgraph import announcements, aspirations, board, db, http_edge, memory, presence
from kimgraph.accounts.sign_in import SignInThrottle
from kimgraph.announcements.queries import prepare_events
from kimgraph.api import SHAREABLE_FIELDS, build_schema
from kimgraph.aspirations.queries import prepare_events as prepare_aspiration_events
from kimgraph.aspirations.reporter import ReporterKeyThrottle
from kimgraph.aspirations.submission import submission_limiter
from kimgraph.clock import Clock, SystemClock
from kimgraph.context import Context
from kimgraph.events.bus import EventBus
from kimgraph.events.memory import MemoryBus
from kimgraph.events.redis_bus import RedisBus
from kimgraph.live import metrics
from kimgraph.live.connections import ConnectionRegistry
from kimgraph.live.credentials import CredentialCheck
from kimgraph.live.hub import Hub
from kimgraph.live.shutdown import RESTART
from kimgraph.pii import erasure as pii_erasure
from kimgraph.pii import keys as pii_keys
from kimgraph.pii import store as pii_store
from kimgraph.rate_limit import limit_store
from kimgraph.request_log import RequestLog
from kimgraph.settings import Settings
from kimgraph.timers import TimerLoop
from kimgraph.view import GraphQLView
from kimgraph.warnings.service import start_poller
from kimgraph.webhooks.dispatcher import Dispatcher

logger = logging.getLogger("kimgraph.app")


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


LIVE_PATH = "/graphql"


class App(Starlette):
    """Starlette, but a WebSocket to /graphql goes straight to its route's endpoint.

    Through the request log, past Starlette's error and exception middleware
    and its router: for a socket the live view serves they do nothing but
    wait, and each kept a coroutine frame and closures alive for the socket's
    whole life (6 of the 21 frames an idle board socket held; docs/performance.md,
    "Memory per socket"). Every other request takes the whole stack.
    """

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        live = next(
            route.endpoint
            for route in self.routes
            if isinstance(route, WebSocketRoute) and route.path == LIVE_PATH
        )
        self._live = RequestLog(live)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Matched as the router matches it (pinned Starlette, constraints.txt).
        if scope["type"] == "websocket" and get_route_path(scope) == LIVE_PATH:
            scope["app"] = self
            await self._live(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


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
    # Reporter names and contacts encrypted at rest, erased after retention
    # (docs/privacy.md); `kimgraph serve` has checked the secret already.
    pii_keys.install(pii_store.keyring_from(settings))
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
        hourly=[pii_erasure.hourly(timedelta(days=settings.pii_retention_days))],
    )
    connections = ConnectionRegistry()
    credential_check = CredentialCheck(
        clock, connections, interval=settings.credential_check_seconds
    )
    # Which desa this process's boards show, written for every process to read.
    board_sockets = presence.BoardSockets()
    board_heartbeat = presence.Heartbeat(
        clock, board_sockets, settings.board_heartbeat_seconds
    )
    schema = build_schema(settings)
    # Webhook bodies are the subscriptions' own events (docs/webhooks.md).
    webhooks = Dispatcher(
        clock,
        schema,
        Context(settings=settings, clock=clock, hub=hub),
        hub.bus,
        allow_local=settings.webhooks_allow_http,
        concurrency=settings.webhooks_concurrency,
        interval=settings.event_poll_seconds,
    )
    view = GraphQLView(schema, SHAREABLE_FIELDS, settings, clock, connections, hub)
    limits = limit_store(settings.redis_url)

    async def metrics_snapshot() -> metrics.Snapshot:
        return metrics.snapshot(
            metrics.Sources(hub, view.live.sharing),
            bus_up=await _bus_ok(hub),
            text=view.read_cache.metrics(),  # kimgraph.read_cache
        )

    # Of this process, or of every worker under --workers N (kimgraph.live.mirror).
    published = metrics.Publisher(metrics_snapshot)

    async def metrics_text(request: Request) -> Response:
        """Prometheus metrics (kimgraph.live.metrics)."""
        body = await published.render()
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
        RESTART.install()  # sockets accepted once SIGTERM came get 1012
        if manage_database:
            await db.init(settings.database_url)
        await pii_store.check(pii_keys.installed())
        await hub.bus.start()
        await hub.start()
        timer_loop.start()
        credential_check.start()
        webhooks.start()
        board_heartbeat.start()
        published.start()
        poller = await start_poller(settings, clock, hub.announce)  # warnings.md
        # Start-up objects out of every collection, thresholds that keep both
        # pauses short and memory bounded (kimgraph.memory, docs/performance.md).
        gc_pauses = memory.start_policy()
        freezer = memory.Freezer()
        freezer.start()
        try:
            yield
        finally:
            await freezer.close()
            memory.stop_policy(gc_pauses)
            await published.close()
            if poller is not None:
                await poller.close()
            await credential_check.close()
            await webhooks.close()
            await board_heartbeat.close()
            await view.live.pinger.close()
            await timer_loop.close()
            await hub.close()
            await hub.bus.close()
            await limits.close()
            await schema.persisted.store.close()  # its Redis client, if any
            if manage_database:
                await db.close()

    app = App(
        routes=[
            # The body limit only where bodies are read: an idle WebSocket
            # then holds no frame of it (every other route is GET).
            Route(
                "/graphql",
                http_edge.wrapped(
                    RequestBodyLimitMiddleware(view.http, settings.max_body_bytes),
                    settings,
                ),
                methods=["GET", "POST", "OPTIONS"],  # OPTIONS: CORS preflight
            ),
            WebSocketRoute(LIVE_PATH, view),  # served past the router (App)
            Route("/", http_edge.to_graphql, methods=["GET"]),
            *http_edge.graphiql_assets(settings),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            *http_edge.compressed([Route("/metrics", metrics_text), *board.routes()]),
        ],
        lifespan=lifespan,
    )
    # The limits of tokenCreate and aspirationSubmit, shared through Redis when
    # it is configured (the resolvers find them with Context.app_object).
    # An id, an access line and the request metrics for every request and socket.
    app.add_middleware(RequestLog)
    app.state.sign_in_throttle = SignInThrottle(clock, limits)
    setattr(app.state, presence.APP_STATE, board_sockets)  # found by the live path
    app.state.aspiration_submissions = submission_limiter(clock, limits)
    app.state.reporter_key_throttle = ReporterKeyThrottle(
        clock, limits, settings.reporter_key_retry_seconds
    )
    return app
