"""The HTTP edge: GraphiQL's page and files, CORS, gzip, `/` (docs/http.md)."""

from __future__ import annotations

import gzip
import re
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from importlib import resources
from pathlib import Path

import httpx
import pytest
from starlette.routing import Route, WebSocketRoute

from kimgraph import graphiql
from kimgraph.app import create_app
from kimgraph.clock import FixedClock
from kimgraph.settings import Settings
from kimgraph.view import GraphQLView
from tests.services import database

ALLOWED = "http://localhost:5173"
ELSEWHERE = "https://evil.example"
README = Path(__file__).parents[2] / "README.md"
SMALL_QUERY = '{ region(code: "61.04") { name } }'
# Every kecamatan of Ketapang with its desa: several KiB of JSON.
LARGE_QUERY = '{ region(code: "61.04") { ... on Kabupaten { kecamatan { code name '
LARGE_QUERY += "desa { code name } } } } }"
FRAME_AND_SCRIPT_HEADERS = {
    "content-security-policy": "default-src 'none'; script-src 'self'; "
    "style-src 'self'; font-src data:; img-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-cache",
}

Serve = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    """SQLite alone: nothing these tests show depends on the database."""
    with database("sqlite", tmp_path, migrated=True) as url:
        yield url


@pytest.fixture
def serve(ketapang: str, clock: FixedClock) -> Serve:
    """A client of the app made with the given settings (on the test database)."""

    @asynccontextmanager
    async def serving(**settings: object) -> AsyncIterator[httpx.AsyncClient]:
        app = create_app(
            Settings(database_url=ketapang, **settings),  # type: ignore[arg-type]
            clock=clock,
        )
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            yield c

    return serving


def preflight(origin: str) -> dict[str, str]:
    return {
        "origin": origin,
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization, content-type",
    }


# A browser app may read a 429's Retry-After (Starlette sends this on every
# answer to a request with an Origin; it grants nothing by itself).
EXPOSED = {"access-control-expose-headers": "Retry-After"}


def cors_headers(response: httpx.Response) -> dict[str, str]:
    return {
        name: value
        for name, value in response.headers.items()
        if name.startswith("access-control-")
    }


async def test_a_listed_origin_s_preflight_is_answered_with_exact_headers(
    serve: Serve,
) -> None:
    # given
    async with serve(allowed_origins=(ALLOWED,)) as client:
        # when
        response = await client.options("/graphql", headers=preflight(ALLOWED))
    # then
    assert (response.status_code, response.text) == (200, "OK")
    assert cors_headers(response) == {
        "access-control-allow-origin": ALLOWED,
        "access-control-allow-methods": "GET, POST",
        "access-control-allow-headers": "Accept, Accept-Language, Authorization, "
        "Content-Language, Content-Type",
        "access-control-max-age": "600",
    }


@pytest.mark.parametrize(
    ("listed", "origin"),
    [((ALLOWED,), ELSEWHERE), ((), ALLOWED), ((ALLOWED,), "http://localhost:5174")],
)
async def test_an_origin_not_listed_gets_no_cors_permission(
    serve: Serve, listed: tuple[str, ...], origin: str
) -> None:
    # given
    async with serve(allowed_origins=listed) as client:
        # when
        refused = await client.options("/graphql", headers=preflight(origin))
        answered = await client.post(
            "/graphql", json={"query": SMALL_QUERY}, headers={"origin": origin}
        )
    # then
    assert (refused.status_code, refused.text) == (400, "Disallowed CORS origin")
    assert "access-control-allow-origin" not in refused.headers
    # The server answers; without allow-origin the browser keeps the page from it.
    assert answered.status_code == 200
    assert cors_headers(answered) == EXPOSED


async def test_a_listed_origin_reads_answers_and_errors_but_sends_no_cookies(
    serve: Serve,
) -> None:
    # given
    async with serve(allowed_origins=(ALLOWED,)) as client:
        # when
        answered = await client.post(
            "/graphql", json={"query": SMALL_QUERY}, headers={"origin": ALLOWED}
        )
        unauthenticated = await client.post(
            "/graphql",
            json={"query": SMALL_QUERY},
            headers={"origin": ALLOWED, "authorization": "Bearer nonsense"},
        )
    # then
    assert answered.json() == {"data": {"region": {"name": "Kabupaten Ketapang"}}}
    assert cors_headers(answered) == {"access-control-allow-origin": ALLOWED, **EXPOSED}
    assert unauthenticated.status_code == 401
    assert cors_headers(unauthenticated) == {
        "access-control-allow-origin": ALLOWED,
        **EXPOSED,
    }


@pytest.mark.parametrize(
    ("query", "accept", "compressed"),
    [
        (LARGE_QUERY, "gzip", True),
        (LARGE_QUERY, "identity", False),
        (SMALL_QUERY, "gzip", False),
    ],
)
async def test_answers_over_1_kib_are_gzipped_when_the_client_accepts_it(
    serve: Serve, query: str, accept: str, compressed: bool
) -> None:
    # given
    async with serve() as client:
        # when
        response = await client.post(
            "/graphql", json={"query": query}, headers={"accept-encoding": accept}
        )
    # then
    assert response.status_code == 200
    assert "errors" not in response.json()
    size = len(response.content)  # decoded by httpx
    assert size > 1024 if query == LARGE_QUERY else size < 1024
    assert response.headers.get("content-encoding") == ("gzip" if compressed else None)
    if compressed:
        assert response.headers["vary"] == "Accept, Accept-Encoding, Origin"


async def test_graphiql_s_files_are_versioned_immutable_and_gzipped(
    serve: Serve,
) -> None:
    # given
    async with serve() as client:
        page = (await client.get("/graphql", headers={"accept": "text/html"})).text
        paths = re.findall(r'"(/graphiql-assets/[a-z.]+\?v=[0-9a-f]{16})"', page)
        # when
        files = {
            path: await client.get(path, headers={"accept-encoding": "gzip"})
            for path in paths
        }
        stale = await client.get("/graphiql-assets/graphiql.js")
        revalidated = await client.get(
            "/graphiql-assets/graphiql.js",
            headers={"if-none-match": stale.headers["etag"]},
        )
        unknown = await client.get("/graphiql-assets/page.html")
    # then
    assert sorted(p.split("?")[0] for p in files) == [
        "/graphiql-assets/graphiql.css",
        "/graphiql-assets/graphiql.js",
    ]
    for path, response in files.items():
        name = path.split("?")[0].removeprefix("/graphiql-assets/")
        packaged = (resources.files("kimgraph.graphiql") / "static" / name).read_bytes()
        assert (response.status_code, response.content) == (200, packaged)
        assert response.headers["content-encoding"] == "gzip"
        assert (
            response.headers["cache-control"] == "public, max-age=31536000, immutable"
        )
    assert stale.headers["cache-control"] == "no-cache"
    assert (revalidated.status_code, revalidated.content) == (304, b"")
    assert (unknown.status_code, unknown.text) == (404, "Not found")


async def test_the_graphiql_page_denies_framing_and_loads_only_its_own_files(
    serve: Serve,
) -> None:
    # given
    async with serve() as client:
        # when
        response = await client.get(
            "/graphql", params={"q": "{ me { id } }"}, headers={"accept": "text/html"}
        )
    # then
    assert response.status_code == 200
    assert {
        name: response.headers.get(name) for name in FRAME_AND_SCRIPT_HEADERS
    } == FRAME_AND_SCRIPT_HEADERS
    assert response.text == graphiql.page()  # nothing of the URL is echoed
    sources = re.findall(r'(?:src|href)="([^"]*)"', response.text)
    assert sources == [
        "data:,",
        f"/graphiql-assets/graphiql.css?v={graphiql.asset('graphiql.css').version}",
        f"/graphiql-assets/graphiql.js?v={graphiql.asset('graphiql.js').version}",
    ]


async def test_with_graphiql_off_browsers_get_a_404_and_no_ide(serve: Serve) -> None:
    # given
    async with serve(graphiql=False) as client:
        # when
        page = await client.get("/graphql", headers={"accept": "text/html"})
        script = await client.get("/graphiql-assets/graphiql.js")
        query = await client.get("/graphql", params={"query": SMALL_QUERY})
    # then
    assert (page.status_code, page.json()) == (
        404,
        {
            "data": None,
            "errors": [{"message": "Not Found", "extensions": {"code": "NOT_FOUND"}}],
        },
    )
    assert script.status_code == 404
    assert query.json() == {"data": {"region": {"name": "Kabupaten Ketapang"}}}


async def test_the_root_redirects_to_graphql(serve: Serve) -> None:
    async with serve() as client:
        response = await client.get("/")
    assert (response.status_code, response.headers["location"]) == (307, "/graphql")


def test_the_websocket_route_is_wrapped_in_no_http_middleware(ketapang: str) -> None:
    # given
    app = create_app(Settings(database_url=ketapang, allowed_origins=(ALLOWED,)))
    # when
    sockets = [r for r in app.routes if isinstance(r, WebSocketRoute)]
    http = [r for r in app.routes if isinstance(r, Route) and r.path == "/graphql"]
    # then
    assert [type(route.app) for route in sockets] == [GraphQLView]
    assert [type(route.app).__name__ for route in http] == ["CORSMiddleware"]


def test_the_first_tab_holds_the_readme_s_first_query() -> None:
    # given
    first = re.search(r"```graphql\n(.*?)```", README.read_text(), re.S)
    assert first is not None
    # when
    query = "".join(
        line
        for line in graphiql.DEFAULT_QUERY.splitlines(keepends=True)
        if not line.startswith("#")
    )
    # then
    assert query.strip() == first.group(1).strip()
    assert 'Put {"Authorization": "Bearer <token>"} in the Headers tab' in (
        graphiql.DEFAULT_QUERY
    )


def test_the_packaged_files_are_found_and_minified() -> None:
    static = resources.files("kimgraph.graphiql") / "static"
    sizes = {name: len((static / name).read_bytes()) for name in graphiql.MEDIA_TYPES}
    # Minified: about 1.5 MB and 0.4 MB (the stylesheet embeds its fonts).
    assert sizes["graphiql.js"] < 2_000_000
    assert sizes["graphiql.css"] < 600_000
    assert len(gzip.compress((static / "graphiql.js").read_bytes())) < 600_000


@pytest.mark.parametrize("path", ["/board-assets/board.js", "/metrics"])
async def test_the_board_s_files_and_metrics_are_gzipped_too(
    serve: Serve, path: str
) -> None:
    async with serve() as client:
        response = await client.get(path, headers={"accept-encoding": "gzip"})
    assert (response.status_code, response.headers["content-encoding"]) == (
        200,
        "gzip",
    )
    assert len(response.content) > 1024
