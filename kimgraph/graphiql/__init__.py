"""GraphiQL at `GET /graphql`, served from the package: no request leaves the server.

Strawberry's own page loads React and GraphiQL from a CDN, so it is blank offline
and needs a CSP open to that CDN. This page and its two files (built once by
build.sh from versions pinned in src/package.json, committed under static/) come
from KIMgraph itself, versioned by content hash like the board's assets
(kimgraph/board). docs/http.md says what the page allows and why.
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from string import Template

from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import request_response

from kimgraph import assets

ASSET_PREFIX = "/graphiql-assets/"
ENDPOINT = "/graphql"
MEDIA_TYPES = {
    "graphiql.js": "text/javascript; charset=utf-8",
    "graphiql.css": "text/css; charset=utf-8",
}
# GraphiQL 4 (CodeMirror 5) needs no eval and no workers. Its stylesheet embeds
# its fonts as data: URLs (font-src below).
# frame-ancestors and X-Frame-Options: a page holding a bearer token is never
# framed by another site (clickjacking).
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; "
    "style-src 'self'; font-src data:; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}

# The README's first query, opened in the first tab of a new browser.
DEFAULT_QUERY = """\
# Welcome to KIMgraph. Press the run button (or Ctrl-Enter) to try this query.
#
# Signed in? Put {"Authorization": "Bearer <token>"} in the Headers tab below.
# Queries and mutations send it as a header; subscriptions send it as their
# connection_init payload. Headers are kept in this tab only, never stored.

{
  region(code: "61.04") {
    name
    ... on Kabupaten {
      kecamatan {
        code
        name
        desa { code name }
        kelurahan { code name }
      }
    }
  }
  regions(search: "sungai", within: "61.04", first: 5) {
    totalCount
    edges { node { code name ancestors { name } } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


@functools.cache
def asset(name: str) -> assets.Asset:
    """The packaged file static/`name`, read once."""
    return assets.packaged(
        __package__, f"static/{name}", MEDIA_TYPES[name], ASSET_PREFIX
    )


@functools.cache
def page() -> str:
    """The GraphiQL page; its settings travel as inert JSON, not as a script."""
    config = json.dumps({"endpoint": ENDPOINT, "defaultQuery": DEFAULT_QUERY})
    template = Template((resources.files(__package__) / "page.html").read_text("utf-8"))
    return template.substitute(
        # "<" escaped so that no "</script>" can end the JSON early.
        config=config.replace("<", "\\u003c"),
        css=asset("graphiql.css").href("graphiql.css"),
        js=asset("graphiql.js").href("graphiql.js"),
    )


def page_response() -> Response:
    return HTMLResponse(page(), headers=SECURITY_HEADERS)


async def graphiql_asset(request: Request) -> Response:
    """A GraphiQL file; immutable when asked for by its current version."""
    name = str(request.path_params["name"])
    if name not in MEDIA_TYPES:
        return PlainTextResponse("Not found", status_code=404)
    return assets.response(request, asset(name))


ASSET_PATH = ASSET_PREFIX + "{name}"
# An ASGI app rather than a route, for the composition root to wrap (gzip).
asset_app = request_response(graphiql_asset)
