"""Composition root: the Starlette app, its lifespan and its routes."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL
from tortoise import Tortoise

from kimgraph import db
from kimgraph.api import build_schema
from kimgraph.context import Context
from kimgraph.settings import Settings

logger = logging.getLogger("kimgraph.app")

CONNECTION_INIT_TIMEOUT = timedelta(seconds=3)
MAX_OPERATIONS_PER_CONNECTION = 100


class GraphQLView(GraphQL[Context, None]):
    """Strawberry's ASGI view with KIMgraph's typed context."""

    def __init__(self, settings: Settings) -> None:
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
        )
        self.settings = settings

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        return Context(settings=self.settings, request=request)


async def healthz(request: Request) -> Response:
    """The process is up and serving."""
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    """The database answers; 503 otherwise."""
    try:
        await Tortoise.get_connection("default").execute_query("SELECT 1")
    except Exception:  # whatever the failure, the server is not ready
        logger.warning("readiness check failed", exc_info=True)
        return JSONResponse(
            {"status": "unavailable", "database": "unreachable"}, status_code=503
        )
    return JSONResponse({"status": "ok", "database": "ok"})


def create_app(settings: Settings | None = None) -> Starlette:
    """The ASGI application; reads the environment unless given settings."""
    settings = settings or Settings.from_env()
    view = GraphQLView(settings)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await db.init(settings.database_url)
        try:
            yield
        finally:
            await db.close()

    return Starlette(
        routes=[
            Route("/graphql", view, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", view),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
        ],
        lifespan=lifespan,
        max_body_size=settings.max_body_bytes,
    )
