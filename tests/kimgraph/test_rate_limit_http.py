"""HTTP 429 with Retry-After for a rate-limited request; WebSocket payloads unchanged.

Issue 17, item 21 (docs/domain.md, "Limits").
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from websockets.asyncio.client import connect

from kimgraph import models
from kimgraph.accounts import auth
from kimgraph.app import create_app
from kimgraph.clock import FixedClock
from kimgraph.settings import Settings
from tests.people import HOME_DESA, PASSWORD, Cast, snapshot

DEADLINE_S = 30.0
SUBMIT = """
mutation ($input: AspirationSubmitInput!) {
  aspirationSubmit(input: $input) { ticket userErrors { field code message } }
}
"""
SIGN_IN = """
mutation ($input: TokenCreateInput!) {
  tokenCreate(input: $input) { token userErrors { code message } }
}
"""
SUBMISSION = {
    "input": {
        "region": HOME_DESA,
        "title": "Jalan berlubang",
        "description": "Jalan desa berlubang di depan sekolah.",
        "category": "INFRASTRUCTURE",
    }
}
REFUSED_SUBMISSION = {
    "data": {
        "aspirationSubmit": {
            "ticket": None,
            "userErrors": [
                {
                    "field": None,
                    "code": "RATE_LIMITED",
                    "message": "too many aspirations from this client; try again "
                    "later, or submit through your KIM",
                }
            ],
        }
    }
}
RIGHT = {"input": {"username": "diskominfo", "password": PASSWORD}}
WRONG = {"input": {"username": "diskominfo", "password": "tebakan salah"}}


@pytest.fixture
async def app(cast: Cast, ketapang: str, clock: FixedClock) -> Starlette:
    return create_app(Settings(database_url=ketapang), clock=clock)


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 40_000))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


async def post(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any]
) -> httpx.Response:
    return await client.post("/graphql", json={"query": query, "variables": variables})


async def spend_sign_ins(client: httpx.AsyncClient) -> int:
    """Ten wrong passwords (the pair's allowance); the number of tokens before."""
    tokens = await models.AccessToken.all().count()
    for _ in range(10):
        response = await post(client, SIGN_IN, WRONG)
        assert response.status_code == 200
        errors = response.json()["data"]["tokenCreate"]["userErrors"]
        assert [e["code"] for e in errors] == ["INVALID_CREDENTIALS"]
    return tokens


async def test_a_rate_limited_submission_answers_429_with_retry_after(
    client: httpx.AsyncClient,
) -> None:
    for _ in range(5):
        response = await post(client, SUBMIT, SUBMISSION)
        assert response.status_code == 200
        assert response.json()["data"]["aspirationSubmit"]["userErrors"] == []
    before = await snapshot()
    # when
    response = await post(client, SUBMIT, SUBMISSION)
    # then: 10 an hour, so one more in 6 minutes
    assert response.status_code == 429
    assert response.headers["retry-after"] == "360"
    assert response.headers["content-type"] == "application/json"
    assert response.json() == REFUSED_SUBMISSION
    assert await snapshot() == before


async def test_a_document_that_is_not_refused_whole_keeps_status_200(
    client: httpx.AsyncClient,
) -> None:
    tokens = await spend_sign_ins(client)
    # when: one refused field beside one that is not, or beside __typename
    mixed = await client.post(
        "/graphql",
        json={
            "query": "mutation ($s: AspirationSubmitInput!, $t: TokenCreateInput!) {"
            " a: tokenCreate(input: $t) { token userErrors { code } }"
            " b: aspirationSubmit(input: $s) { userErrors { code } } }",
            "variables": {"s": SUBMISSION["input"], "t": RIGHT["input"]},
        },
    )
    typename = await client.post(
        "/graphql",
        json={
            "query": "mutation ($t: TokenCreateInput!) { __typename"
            " tokenCreate(input: $t) { token } }",
            "variables": {"t": RIGHT["input"]},
        },
    )
    both = await client.post(
        "/graphql",
        json={
            "query": "mutation ($t: TokenCreateInput!) {"
            " a: tokenCreate(input: $t) { token }"
            " b: tokenCreate(input: $t) { token } }",
            "variables": {"t": RIGHT["input"]},
        },
    )
    # then
    assert (mixed.status_code, "retry-after" in mixed.headers) == (200, False)
    assert mixed.json()["data"] == {
        "a": {"token": None, "userErrors": [{"code": "RATE_LIMITED"}]},
        "b": {"userErrors": []},
    }
    assert (typename.status_code, "retry-after" in typename.headers) == (200, False)
    assert typename.json()["data"] == {
        "__typename": "Mutation",
        "tokenCreate": {"token": None},
    }
    assert (both.status_code, both.headers["retry-after"]) == (429, "90")
    assert both.json() == {"data": {"a": {"token": None}, "b": {"token": None}}}
    assert await models.AccessToken.all().count() == tokens


async def test_over_a_websocket_a_refusal_stays_in_the_payload(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    tokens = await spend_sign_ins(client)  # from 203.0.113.7, like the socket below
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=0,
            ws="websockets-sansio",
            lifespan="off",
            proxy_headers=True,
            forwarded_allow_ips="127.0.0.1",
        )
    )
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            assert not task.done(), "uvicorn did not start"
            await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        async with connect(
            f"ws://127.0.0.1:{port}/graphql",
            subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
            additional_headers={"X-Forwarded-For": "203.0.113.7"},
            proxy=None,
            open_timeout=DEADLINE_S,
        ) as ws:
            await ws.send(json.dumps({"type": "connection_init"}))
            assert json.loads(await ws.recv()) == {"type": "connection_ack"}
            payload = {"query": SIGN_IN, "variables": RIGHT}
            await ws.send(
                json.dumps({"id": "1", "type": "subscribe", "payload": payload})
            )
            answer = json.loads(await asyncio.wait_for(ws.recv(), DEADLINE_S))
            done = json.loads(await asyncio.wait_for(ws.recv(), DEADLINE_S))
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, DEADLINE_S)
    assert answer == {
        "id": "1",
        "type": "next",
        "payload": {
            "data": {
                "tokenCreate": {
                    "token": None,
                    "userErrors": [
                        {
                            "code": "RATE_LIMITED",
                            "message": "too many failed sign-ins; try again in "
                            "2 minute(s)",
                        }
                    ],
                }
            }
        },
    }
    assert done == {"id": "1", "type": "complete"}
    assert await models.AccessToken.all().count() == tokens
    assert await auth.verify_password(
        (await models.Account.get(username="diskominfo")).password_hash, PASSWORD
    )
