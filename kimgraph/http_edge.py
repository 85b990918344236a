"""What wraps KIMgraph's HTTP routes: CORS, gzip, GraphiQL's files, `/` (docs/http.md).

Only HTTP routes are wrapped: an idle WebSocket holds no frame of any of it.
"""

from __future__ import annotations

from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp

from kimgraph import graphiql
from kimgraph.settings import Settings

GZIP_MINIMUM_BYTES = 1024
CORS_MAX_AGE_SECONDS = 600


def wrapped(app: ASGIApp, settings: Settings) -> ASGIApp:
    """CORS from the WebSocket origin list, and gzip over 1 KiB (docs/http.md).

    Only HTTP routes are wrapped: an idle WebSocket holds no frame of either.
    """
    return CORSMiddleware(
        GZipMiddleware(app, minimum_size=GZIP_MINIMUM_BYTES),
        allow_origins=settings.allowed_origins,
        allow_methods=["GET", "POST"],
        allow_headers=["Authorization", "Content-Type"],
        # A browser app may read how long a rate limit lasts (429).
        expose_headers=["Retry-After"],
        allow_credentials=False,
        max_age=CORS_MAX_AGE_SECONDS,
    )


def graphiql_assets(settings: Settings) -> list[Route]:
    """GraphiQL's script and stylesheet, while GraphiQL is on."""
    if not settings.graphiql:
        return []
    files = GZipMiddleware(graphiql.asset_app, minimum_size=GZIP_MINIMUM_BYTES)
    return [Route(graphiql.ASSET_PATH, files, methods=["GET"])]


def compressed(routes: list[BaseRoute]) -> list[BaseRoute]:
    """The same HTTP routes, their answers gzipped over 1 KiB (docs/http.md)."""
    return [
        Route(
            route.path,
            GZipMiddleware(route.app, minimum_size=GZIP_MINIMUM_BYTES),
            methods=list(route.methods or ()),
            name=route.name,
        )
        if isinstance(route, Route)
        else route
        for route in routes
    ]


async def to_graphql(request: Request) -> Response:
    return RedirectResponse("/graphql", status_code=307)
