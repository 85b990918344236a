"""GraphQL over HTTP's two response media types, and which one a request wants.

The spec (https://graphql.github.io/graphql-over-http/draft/) keeps
`application/json` as it always was, 200 for any GraphQL response, for the
clients written before it; `application/graphql-response+json` says more with
the status: a request that fails before it executes (no parse, no validation,
variables that do not fit) gets 4xx and no `data` entry. docs/http.md
("GraphQL over HTTP") has the rules; kimgraph/view.py applies them.
"""

from __future__ import annotations

from collections.abc import Iterable
from http import HTTPStatus

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from strawberry.types import ExecutionResult

from kimgraph.errors import (
    GRAPHQL_PARSE_FAILED,
    GRAPHQL_VALIDATION_FAILED,
    QUERY_TOO_COMPLEX,
    InvalidArgumentError,
)

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
JSON = "application/json"

# The media ranges that cover application/json (`*/*` is no request for the newer type).
_COVERS_JSON = frozenset({JSON, "application/*", "*/*"})


def _ranges(accept: str) -> Iterable[tuple[str, float]]:
    """Each media range of an Accept header with its quality (RFC 9110 12.5.1)."""
    for part in accept.split(","):
        media_type, *parameters = (piece.strip() for piece in part.split(";"))
        quality = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value.strip())
                except ValueError:
                    quality = 0.0  # a malformed weight accepts nothing
        if media_type:
            yield media_type.lower(), quality


def prefers_graphql_response(accept: str | None) -> bool:
    """True if Accept names graphql-response+json at least as highly as JSON.

    A missing header, `*/*` or `application/json` alone keep application/json
    (the spec's rule for clients that predate it). The spec's recommended
    `application/graphql-response+json, application/json;q=0.9` and a tie
    choose the newer type: a client that names it explicitly understands it.
    """
    if not accept:
        return False
    graphql_response = json = 0.0
    for media_type, quality in _ranges(accept):
        if media_type == GRAPHQL_RESPONSE_JSON:
            graphql_response = max(graphql_response, quality)
        if media_type in _COVERS_JSON:
            json = max(json, quality)
    return graphql_response > 0 and graphql_response >= json


# The codes of the errors a request fails on before it executes: parsing,
# validation (with the size and cost limits, unstorable text) and variables that
# do not fit. With graphql-response+json these answer 400 (docs/http.md).
REQUEST_ERROR_CODES = frozenset(
    {
        GRAPHQL_PARSE_FAILED,
        GRAPHQL_VALIDATION_FAILED,
        QUERY_TOO_COMPLEX,
        InvalidArgumentError.code,
    }
)


def is_request_error(result: ExecutionResult) -> bool:
    """True if the operation failed before it executed (GraphQL over HTTP).

    Such a result has no data and only errors outside any field (no path) with
    a code of REQUEST_ERROR_CODES; a timeout or a bug (QUERY_TIMEOUT,
    INTERNAL) stops an operation that did execute, and keeps its status.
    """
    return (
        result.data is None
        and bool(result.errors)
        and all(
            error.path is None
            and (error.extensions or {}).get("code") in REQUEST_ERROR_CODES
            for error in result.errors or ()
        )
    )


def as_graphql_response(request: Request, response: Response) -> None:
    """A JSON answer as application/graphql-response+json (docs/http.md).

    Only the content type changes, and the status of a request error (200 under
    application/json, whose clients predate the status rules) becomes 400.
    GraphiQL's page and other non-JSON answers are left alone.
    """
    if response.headers.get("content-type") != "application/json":
        return
    response.headers["content-type"] = GRAPHQL_RESPONSE_JSON
    if getattr(request.state, "graphql_request_error", False):
        response.status_code = 400


def refused(message: str, status: int, graphql_response: bool = False) -> Response:
    """A request refused before any operation ran, in a GraphQL response's shape.

    With graphql-response+json it has no `data` entry: nothing executed.
    """
    code = HTTPStatus(status).name
    return errors_only(message, code, status, graphql_response)


def unauthenticated(message: str, graphql_response: bool = False) -> Response:
    response = errors_only(message, "UNAUTHENTICATED", 401, graphql_response)
    response.headers["WWW-Authenticate"] = 'Bearer realm="kimgraph"'
    return response


def errors_only(
    message: str, code: str, status: int, graphql_response: bool
) -> Response:
    """One error, no `data` under graphql-response+json, `data: null` under JSON."""
    error = {"message": message, "extensions": {"code": code}}
    if graphql_response:
        return JSONResponse(
            {"errors": [error]}, status_code=status, media_type=GRAPHQL_RESPONSE_JSON
        )
    return JSONResponse({"data": None, "errors": [error]}, status_code=status)
