"""Requests that are no GraphQL request: a 400 with a code, nothing run, no bug logged.

Each once failed inside Strawberry's view as an HTTP 500 with a traceback: a
JSON body that is no object, a body that is no UTF-8, variables nested deeper
than the JSON parser recurses, a subscription over HTTP without a streaming
Accept (those with one stream: tests/kimgraph/live/test_http_streams.py).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from kimgraph.live.http_streams import SUBSCRIPTION_NEEDS_STREAM
from tests.people import Cast, snapshot

DEPTH = 100_000
SUBSCRIPTION = 'subscription { announcementEvents(region:"61.04.16.2006") { cursor } }'


def refused(message: str) -> dict[str, Any]:
    """The body of a request refused before any operation ran."""
    return {
        "data": None,
        "errors": [{"message": message, "extensions": {"code": "BAD_REQUEST"}}],
    }


async def post_json(client: httpx.AsyncClient, body: bytes) -> httpx.Response:
    return await client.post(
        "/graphql", content=body, headers={"content-type": "application/json"}
    )


NOT_AN_OBJECT = "The request body must be a JSON object with a query"
NOT_UTF8 = "The request body is not UTF-8 text"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        *[
            (body, NOT_AN_OBJECT)
            for body in (b"null", b"42", b'"x"', b"true", b" \r\n\t 42")
        ],
        (b'{"query": "{ __typename }", "variables": {"a": "\xff"}}', NOT_UTF8),
        (b'{"query": "{ __typename \xc3(}"}', NOT_UTF8),
    ],
)
@pytest.mark.usefixtures("no_errors_logged")
async def test_a_body_that_is_no_json_object_in_utf8_is_refused(
    client: httpx.AsyncClient, cast: Cast, body: bytes, message: str
) -> None:
    # given
    before = await snapshot()
    # when
    response = await post_json(client, body)
    # then
    assert (response.status_code, response.json()) == (400, refused(message))
    assert await snapshot() == before


@pytest.mark.usefixtures("no_errors_logged")
async def test_variables_nested_too_deeply_are_refused(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    # given: 100,000 arrays inside one another, well under the body limit
    nested = b"[" * DEPTH + b"]" * DEPTH
    body = b'{"query":"{ __typename }","variables":{"a":' + nested + b"}}"
    before = await snapshot()
    # when
    response = await post_json(client, body)
    # then
    assert (response.status_code, response.json()) == (
        400,
        refused("The request body nests too deeply"),
    )
    assert await snapshot() == before


@pytest.mark.usefixtures("no_errors_logged")
async def test_variables_nested_too_deeply_in_a_get_are_refused(
    client: httpx.AsyncClient,
) -> None:
    # given: as deep as a URL carries (the JSON parser gives up at about 1,000)
    variables = '{"a":' + "[" * 2000 + "]" * 2000 + "}"
    # when
    response = await client.get(
        "/graphql", params={"query": "{ __typename }", "variables": variables}
    )
    # then
    assert (response.status_code, response.json()) == (
        400,
        refused("The request body nests too deeply"),
    )


@pytest.mark.usefixtures("no_errors_logged")
async def test_a_subscription_over_http_post_is_refused(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    # given
    before = await snapshot()
    # when
    response = await client.post("/graphql", json={"query": SUBSCRIPTION})
    # then
    assert (response.status_code, response.json()) == (
        400,
        refused(SUBSCRIPTION_NEEDS_STREAM),
    )
    assert await snapshot() == before


@pytest.mark.usefixtures("no_errors_logged")
async def test_a_subscription_over_http_get_is_refused(
    client: httpx.AsyncClient,
) -> None:
    # when
    response = await client.get("/graphql", params={"query": SUBSCRIPTION})
    # then
    assert (response.status_code, response.json()) == (
        400,
        refused(SUBSCRIPTION_NEEDS_STREAM),
    )


async def test_other_refused_requests_have_the_same_shape(
    client: httpx.AsyncClient,
) -> None:
    # when
    response = await client.post(
        "/graphql", content=b"{ __typename }", headers={"content-type": "text/plain"}
    )
    # then
    assert (response.status_code, response.json()) == (
        400,
        refused("Unsupported content type"),
    )
