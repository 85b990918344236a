"""The HTTP surface: health, readiness, GET queries, GraphiQL, limits."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from tortoise import Tortoise

from kimgraph import db
from kimgraph.app import create_app
from kimgraph.settings import Settings

QUERY_KETAPANG_NAME = '{ region(code: "61.04") { name } }'


async def test_healthz_answers_ok(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


async def test_readyz_checks_the_database(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert (response.status_code, response.json()) == (
        200,
        {"status": "ok", "database": "ok", "eventBus": "ok"},
    )


@pytest_asyncio.fixture
async def unreachable_database() -> AsyncIterator[httpx.AsyncClient]:
    url = "postgres://postgres@127.0.0.1:9/kimgraph_nowhere"
    await db.init(url)
    app = create_app(Settings(database_url=url))
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            yield c
    finally:
        await db.close()


async def test_readyz_is_503_when_the_database_is_unreachable(
    unreachable_database: httpx.AsyncClient,
) -> None:
    response = await unreachable_database.get("/readyz")
    assert (response.status_code, response.json()) == (
        503,
        {"status": "unavailable", "database": "unreachable", "eventBus": "ok"},
    )


async def test_queries_work_over_get(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", params={"query": QUERY_KETAPANG_NAME})
    assert response.status_code == 200
    assert response.json() == {"data": {"region": {"name": "Kabupaten Ketapang"}}}


async def test_browsers_get_graphiql(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", headers={"accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "graphiql" in response.text.lower()


async def test_unparseable_requests_get_400(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400


async def test_bodies_over_one_megabyte_get_413(client: httpx.AsyncClient) -> None:
    padding = " " * 1_048_577
    response = await client.post(
        "/graphql", json={"query": QUERY_KETAPANG_NAME + padding}
    )
    assert response.status_code == 413


async def test_too_deep_queries_are_refused(client: httpx.AsyncClient) -> None:
    deep = '{ region(code: "61.04") { ' + "parent { " * 13 + "code" + " }" * 15
    response = await client.post("/graphql", json={"query": deep})
    body = response.json()
    assert body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["QUERY_TOO_COMPLEX"]


async def test_syntax_errors_have_a_code(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={"query": "{ region(code: "})
    body = response.json()
    assert [e["extensions"]["code"] for e in body["errors"]] == ["GRAPHQL_PARSE_FAILED"]


async def test_unexpected_failures_are_masked_and_logged(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    # given: the region table is gone, as after a botched manual migration
    connection = Tortoise.get_connection("default")
    await connection.execute_script("ALTER TABLE region RENAME TO region_gone")
    # when
    with caplog.at_level(logging.ERROR, logger="kimgraph.api"):
        response = await client.post("/graphql", json={"query": QUERY_KETAPANG_NAME})
    # then
    assert response.json() == {
        "data": {"region": None},
        "errors": [
            {
                "message": "Unexpected error.",
                "locations": [{"line": 1, "column": 3}],
                "path": ["region"],
                "extensions": {"code": "INTERNAL"},
            }
        ],
    }
    assert "region" in caplog.text
    assert [r.levelname for r in caplog.records if r.name == "kimgraph.api"] == [
        "ERROR"
    ]
