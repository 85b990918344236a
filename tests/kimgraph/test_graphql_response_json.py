"""application/graphql-response+json as GraphQL over HTTP says; JSON as before.

Issue 11: with Accept graphql-response+json, a request that fails before it
executes (parse, validation, variables, unknown operation) answers 400 with no
`data` entry, in that media type; application/json keeps 200 and `data: null`
for its older clients (docs/http.md, "GraphQL over HTTP").
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from kimgraph.graphql_http import prefers_graphql_response
from tests.people import Cast, snapshot

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"

PARSE_ERROR = {
    "message": "Syntax Error: Expected Name, found <EOF>.",
    "locations": [{"line": 1, "column": 2}],
    "extensions": {"code": "GRAPHQL_PARSE_FAILED"},
}
VALIDATION_ERROR = {
    "message": "Cannot query field 'nope' on type 'Query'. Did you mean 'node'?",
    "locations": [{"line": 1, "column": 3}],
    "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"},
}
COERCION_ERROR = {
    "message": "Variable '$c' has invalid value: "
    "Expected value of non-null type 'String!' not to be None.",
    "locations": [{"line": 1, "column": 9}],
    "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"},
}
UNKNOWN_OPERATION = {
    "message": 'Unknown operation named "C".',
    "extensions": {"code": "BAD_REQUEST"},
}
REQUEST_ERRORS = [
    pytest.param({"query": "{"}, PARSE_ERROR, id="parse"),
    pytest.param({"query": "{ nope }"}, VALIDATION_ERROR, id="validation"),
    pytest.param(
        {
            "query": "query Q($c: String!) { region(code: $c) { name } }",
            "variables": {"c": None},
        },
        COERCION_ERROR,
        id="variables",
    ),
]


async def post(
    client: httpx.AsyncClient, body: dict[str, Any], accept: str | None
) -> httpx.Response:
    headers = {} if accept is None else {"accept": accept}
    return await client.post("/graphql", json=body, headers=headers)


def answer(response: httpx.Response) -> tuple[int, str, Any]:
    return response.status_code, response.headers["content-type"], response.json()


@pytest.mark.parametrize(("body", "error"), REQUEST_ERRORS)
async def test_a_request_error_is_400_without_data_under_graphql_response_json(
    client: httpx.AsyncClient, body: dict[str, Any], error: dict[str, Any]
) -> None:
    # when
    response = await post(client, body, GRAPHQL_RESPONSE)
    # then
    assert answer(response) == (400, GRAPHQL_RESPONSE, {"errors": [error]})


@pytest.mark.parametrize(("body", "error"), REQUEST_ERRORS)
async def test_a_request_error_is_200_with_null_data_under_json(
    client: httpx.AsyncClient, body: dict[str, Any], error: dict[str, Any]
) -> None:
    # when
    response = await post(client, body, JSON)
    # then: as before issue 11, for the clients that predate the spec
    assert answer(response) == (200, JSON, {"data": None, "errors": [error]})


@pytest.mark.parametrize(
    ("accept", "content_type"),
    [
        (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE}, {JSON};q=0.9", GRAPHQL_RESPONSE),
        (JSON, JSON),
        ("*/*", JSON),
        (None, JSON),
    ],
)
async def test_a_success_is_200_in_the_media_type_asked_for(
    client: httpx.AsyncClient, accept: str | None, content_type: str
) -> None:
    # when
    response = await post(
        client, {"query": '{ region(code: "61.04.16") { name } }'}, accept
    )
    # then
    assert answer(response) == (
        200,
        content_type,
        {"data": {"region": {"name": "Delta Pawan"}}},
    )
    # and: a cache keeps one answer per Accept
    assert response.headers["vary"] == "Accept, Origin"


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (GRAPHQL_RESPONSE, (400, GRAPHQL_RESPONSE, {"errors": [UNKNOWN_OPERATION]})),
        (JSON, (400, JSON, {"data": None, "errors": [UNKNOWN_OPERATION]})),
    ],
)
async def test_an_unknown_operation_is_400(
    client: httpx.AsyncClient, accept: str, expected: tuple[int, str, Any]
) -> None:
    # given
    body = {
        "query": "query A { __typename } query B { __typename }",
        "operationName": "C",
    }
    # when
    response = await post(client, body, accept)
    # then
    assert answer(response) == expected


async def test_an_operation_that_executed_keeps_200_and_its_null_data(
    client: httpx.AsyncClient,
) -> None:
    # when: a non-null root field fails while executing (its error has a path)
    response = await post(
        client, {"query": "{ regions(first: 101) { totalCount } }"}, GRAPHQL_RESPONSE
    )
    # then
    error = {
        "message": "first must be between 0 and 100, got 101",
        "locations": [{"line": 1, "column": 3}],
        "path": ["regions"],
        "extensions": {"code": "INVALID_ARGUMENT"},
    }
    assert answer(response) == (
        200,
        GRAPHQL_RESPONSE,
        {"data": None, "errors": [error]},
    )


async def test_a_mutation_that_does_not_parse_changes_nothing(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    # given
    before = await snapshot()
    # when
    response = await post(
        client,
        {"query": 'mutation { tokenRevoke(input: {token: "x"}) { revoked }'},
        GRAPHQL_RESPONSE,
    )
    # then
    assert response.status_code == 400
    assert "data" not in response.json()
    assert await snapshot() == before


UNAUTHENTICATED = {
    "message": "the bearer credential is not a KIMgraph token or API key",
    "extensions": {"code": "UNAUTHENTICATED"},
}


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (GRAPHQL_RESPONSE, (401, GRAPHQL_RESPONSE, {"errors": [UNAUTHENTICATED]})),
        (JSON, (401, JSON, {"data": None, "errors": [UNAUTHENTICATED]})),
    ],
)
async def test_a_bad_credential_is_401_in_the_media_type_asked_for(
    client: httpx.AsyncClient, accept: str, expected: tuple[int, str, Any]
) -> None:
    # when
    response = await client.post(
        "/graphql",
        json={"query": "{ __typename }"},
        headers={"accept": accept, "authorization": "Bearer nope"},
    )
    # then
    assert answer(response) == expected
    assert response.headers["www-authenticate"] == 'Bearer realm="kimgraph"'


@pytest.mark.parametrize(
    ("accept", "prefers"),
    [
        (None, False),
        ("", False),
        ("*/*", False),
        ("application/*", False),
        (JSON, False),
        (GRAPHQL_RESPONSE, True),
        (f"{GRAPHQL_RESPONSE}, {JSON};q=0.9", True),
        (f"{JSON}, {GRAPHQL_RESPONSE}", True),
        (f"{JSON}, {GRAPHQL_RESPONSE};q=0.5", False),
        (f"{GRAPHQL_RESPONSE};q=0, {JSON}", False),
        (f"{GRAPHQL_RESPONSE};q=0", False),
        (f"{GRAPHQL_RESPONSE};q=x", False),
        (f"Application/GraphQL-Response+JSON ; charset=utf-8, {JSON};q=0.9", True),
        ("text/html", False),
    ],
)
def test_the_accept_header_picks_the_media_type(
    accept: str | None, prefers: bool
) -> None:
    assert prefers_graphql_response(accept) is prefers


async def test_a_rate_limited_request_keeps_429_under_graphql_response_json(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    # given: the pair's ten wrong passwords (kimgraph.accounts.sign_in)
    sign_in = {
        "query": "mutation ($i: TokenCreateInput!) "
        "{ tokenCreate(input: $i) { token userErrors { code } } }",
        "variables": {"i": {"username": "diskominfo", "password": "tebakan salah"}},
    }
    for _ in range(10):
        response = await post(client, sign_in, GRAPHQL_RESPONSE)
        assert response.status_code == 200
    # when
    response = await post(client, sign_in, GRAPHQL_RESPONSE)
    # then
    refused = {"tokenCreate": {"token": None, "userErrors": [{"code": "RATE_LIMITED"}]}}
    assert answer(response) == (429, GRAPHQL_RESPONSE, {"data": refused})
    assert int(response.headers["retry-after"]) >= 1
