"""Query cost: dear operations are refused before any resolver runs, cheap ones pass.

Over HTTP and over the app's WebSocket (graphql-transport-ws), in this process.
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from graphql import validate
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.types import Message

import kimgraph.cost
from kimgraph.app import create_app
from kimgraph.clock import FixedClock
from kimgraph.settings import Settings
from tests.conftest import QueryLog, execute
from tests.people import Cast, snapshot

ROOT = Path(__file__).resolve().parents[2]
DEADLINE_S = 10.0
DESA = "61.04.16.2006"

# Issue 17: 150 bytes that took a server from 0.2 GB to 10.3 GB.
QUERY_NESTED_REGIONS = (
    '{region(code:"61.04"){... on Kabupaten{kecamatan{desa{kecamatan{desa{kecamatan'
    "{desa{kecamatan{desa{kecamatan{desa{kecamatan{code}}}}}}}}}}}}}}"
)
QUERY_NATION = """
{
  regions(level: PROVINSI, first: 100) {
    edges { node { ... on Provinsi {
      kabupatenKota { ... on Kabupaten { kecamatan { desa { code } } } }
    } } }
  }
}
"""
QUERY_PROVINSI = """
{
  region(code: "61") {
    ... on Provinsi {
      kabupatenKota { ... on Kabupaten { kecamatan { desa { code } } } }
    }
  }
}
"""
# The same selection, as deep as the depth limit lets it be.
SUBSCRIPTION_NESTED_REGIONS = """
subscription ($region: String!) {
  announcementEvents(region: $region) {
    announcement { targets { ... on Kabupaten { kecamatan { desa { kecamatan {
      desa { kecamatan { desa { kecamatan { code } } } } }
    } } } } }
  }
}
"""
MUTATION_PUBLISH = """
mutation ($input: AnnouncementPublishInput!) {
  announcementPublish(input: $input) { userErrors { code } }
}
"""
MUTATION_PUBLISH_NESTED_REGIONS = """
mutation ($input: AnnouncementPublishInput!) {
  announcementPublish(input: $input) {
    announcement { targets { ... on Kabupaten { kecamatan { desa { code } } } } }
  }
}
"""
QUERY_PAGE_OF_REGIONS = """
query ($first: Int) { regions(first: $first) { edges { node { code } } } }
"""
REFUSAL = (
    "The operation may return {cost} objects, over the limit of {budget}: "
    "ask for smaller pages (`first`) or fewer nested lists."
)


def refusal(cost: int, budget: int) -> dict[str, Any]:
    return {
        "message": REFUSAL.format(cost=cost, budget=budget),
        "extensions": {"code": "QUERY_TOO_COMPLEX", "cost": cost, "maxCost": budget},
    }


def readme_first_query() -> str:
    """The query the README asks a newcomer to paste into GraphiQL first."""
    readme = (ROOT / "README.md").read_text()
    match = re.search(r"```graphql\n(.*?)```", readme, re.DOTALL)
    assert match is not None
    return match.group(1)


def board_operations() -> tuple[str, str]:
    """The notice board's load query and subscription, as board.js sends them."""
    script = (ROOT / "kimgraph/board/board.js").read_text()
    fields = re.search(r"const FIELDS = '([^']*)';", script)
    query = re.search(r"const QUERY = `([^`]*)`;", script)
    subscription = re.search(r"const SUBSCRIPTION = `([^`]*)`;", script)
    assert fields is not None
    assert query is not None
    assert subscription is not None
    return (
        query.group(1).replace("${FIELDS}", fields.group(1)),
        subscription.group(1).replace("${FIELDS}", fields.group(1)),
    )


@pytest_asyncio.fixture
async def app(ketapang: str, clock: FixedClock) -> AsyncIterator[Starlette]:
    """The app with its hub following the event log, as its lifespan would."""
    application = create_app(Settings(database_url=ketapang), clock=clock)
    (route,) = [r for r in application.routes if isinstance(r, WebSocketRoute)]
    hub = route.endpoint.hub  # type: ignore[attr-defined]
    await hub.bus.start()
    await hub.start()
    try:
        yield application
    finally:
        await hub.close()
        await hub.bus.close()


@pytest_asyncio.fixture
async def http(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


class Socket:
    """A graphql-transport-ws client of the app, through ASGI in this event loop."""

    def __init__(self) -> None:
        self.to_app: asyncio.Queue[Message] = asyncio.Queue()
        self.from_app: asyncio.Queue[Message] = asyncio.Queue()

    @classmethod
    @asynccontextmanager
    async def open(cls, app: Starlette) -> AsyncIterator[Socket]:
        """Connected and acknowledged; disconnected on exit."""
        socket = cls()
        scope = {
            "type": "websocket",
            "asgi": {"version": "3.0"},
            "scheme": "ws",
            "path": "/graphql",
            "raw_path": b"/graphql",
            "query_string": b"",
            "root_path": "",
            "headers": [
                (b"host", b"test"),
                (b"sec-websocket-protocol", b"graphql-transport-ws"),
            ],
            "subprotocols": ["graphql-transport-ws"],
            "client": ("127.0.0.1", 50000),
            "server": ("test", 80),
        }
        task = asyncio.create_task(app(scope, socket.to_app.get, socket.from_app.put))
        await socket.to_app.put({"type": "websocket.connect"})
        accepted = await asyncio.wait_for(socket.from_app.get(), DEADLINE_S)
        assert accepted["type"] == "websocket.accept", accepted
        await socket.send({"type": "connection_init", "payload": {}})
        assert await socket.message() == {"type": "connection_ack"}
        try:
            yield socket
        finally:
            await socket.to_app.put({"type": "websocket.disconnect", "code": 1000})
            await asyncio.wait_for(task, DEADLINE_S)

    async def send(self, message: dict[str, Any]) -> None:
        await self.to_app.put(
            {"type": "websocket.receive", "text": json.dumps(message)}
        )

    async def subscribe(
        self, operation_id: str, query: str, variables: dict[str, Any]
    ) -> None:
        payload = {"query": query, "variables": variables}
        await self.send({"id": operation_id, "type": "subscribe", "payload": payload})

    async def message(self) -> dict[str, Any]:
        """The next message other than a ping (answered with a pong)."""
        while True:
            event = await asyncio.wait_for(self.from_app.get(), DEADLINE_S)
            assert event["type"] == "websocket.send", event
            message: dict[str, Any] = json.loads(event["text"])
            if message["type"] != "ping":
                return message
            await self.send({"type": "pong"})


async def test_the_nested_query_of_issue_17_is_refused_before_any_resolver(
    client: httpx.AsyncClient, sql_log: QueryLog
) -> None:
    # when
    body = await execute(client, QUERY_NESTED_REGIONS)
    # then: 60 kecamatan x (120 desa x ...)^5: refused, and nothing was read
    assert body == {"data": None, "errors": [refusal(3_011_076_302_461, 50_000)]}
    assert sql_log.statements == []


@pytest.mark.parametrize(
    ("query", "cost"),
    [
        # 100 provinsi x 50 kabupaten/kota x 60 kecamatan x 120 desa
        (QUERY_NATION, 1 + 100 * (1 + 1 + 50 * (1 + 60 * (1 + 120)))),
        (QUERY_PROVINSI, 1 + 50 * (1 + 60 * (1 + 120))),
    ],
)
async def test_a_nation_of_desa_is_refused_before_any_resolver(
    client: httpx.AsyncClient, sql_log: QueryLog, query: str, cost: int
) -> None:
    body = await execute(client, query)
    assert body == {"data": None, "errors": [refusal(cost, 50_000)]}
    assert sql_log.statements == []


async def test_a_dear_mutation_is_refused_before_it_changes_anything(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    # given
    before = await snapshot()
    publish = {
        "title": "Posyandu",
        "body": "Posyandu hari Sabtu.",
        "category": "HEALTH",
        "targets": [DESA],
    }
    # when
    body = await execute(
        client,
        MUTATION_PUBLISH_NESTED_REGIONS,
        {"input": publish},
        cast.headers["admin"],
    )
    # then: 100 targets x 60 kecamatan x 120 desa
    cost = 1 + 1 * (1 + 100 * (1 + 60 * (1 + 120)))
    assert body == {"data": None, "errors": [refusal(cost, 50_000)]}
    assert await snapshot() == before


@pytest.mark.parametrize(("first", "refused"), [(5, False), (6, True)])
async def test_the_budget_is_the_setting(
    ketapang: str, clock: FixedClock, first: int, refused: bool
) -> None:
    # given: a budget of 11 objects, which 5 regions fill (1 + 5 x 2)
    app = create_app(Settings(database_url=ketapang, max_query_cost=11), clock=clock)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        # when
        body = await execute(c, QUERY_PAGE_OF_REGIONS, {"first": first})
    # then
    if refused:
        assert body == {"data": None, "errors": [refusal(1 + first * 2, 11)]}
    else:
        assert len(body["data"]["regions"]["edges"]) == first


async def test_the_readme_first_query_passes(client: httpx.AsyncClient) -> None:
    # when
    body = await execute(client, readme_first_query())
    # then: Ketapang's whole tree and the first sungai, no error
    assert set(body) == {"data"}
    kabupaten = body["data"]["region"]
    assert kabupaten["name"] == "Kabupaten Ketapang"
    assert len(kabupaten["kecamatan"]) == 20
    assert sum(len(k["desa"]) for k in kabupaten["kecamatan"]) == 253
    assert sum(len(k["kelurahan"]) for k in kabupaten["kecamatan"]) == 9
    assert len(body["data"]["regions"]["edges"]) == 5


async def test_the_board_load_query_passes(client: httpx.AsyncClient) -> None:
    query, _ = board_operations()
    body = await execute(client, query, {"region": DESA})
    assert body == {
        "data": {
            "announcements": {
                "eventCursor": body["data"]["announcements"]["eventCursor"],
                "edges": [],
            }
        }
    }


async def test_the_nested_selection_is_refused_at_subscribe(
    app: Starlette, sql_log: QueryLog
) -> None:
    # given
    async with Socket.open(app) as socket:
        # when
        await socket.subscribe("heavy", SUBSCRIPTION_NESTED_REGIONS, {"region": DESA})
        # then: 100 targets x 60 kecamatan x 120 desa x ...: refused, nothing read
        message = await socket.message()
    per_kecamatan = 1 + 120 * (1 + 1 * (1 + 120 * (1 + 1 * (1 + 120 * (1 + 1)))))
    cost = 1 + 1 * (1 + 100 * (1 + 60 * per_kecamatan))
    assert message == {"id": "heavy", "type": "error", "payload": [refusal(cost, 500)]}
    assert sql_log.statements == []


async def test_the_board_subscription_passes_and_delivers(
    app: Starlette, http: httpx.AsyncClient, cast: Cast
) -> None:
    # given: the board loaded, then following from its cursor
    query, subscription = board_operations()
    loaded = await execute(http, query, {"region": DESA})
    cursor = loaded["data"]["announcements"]["eventCursor"]
    async with Socket.open(app) as socket:
        await socket.subscribe("board", subscription, {"region": DESA, "after": cursor})
        # when
        published = await execute(
            http,
            MUTATION_PUBLISH,
            {
                "input": {
                    "title": "Posyandu",
                    "body": "Posyandu hari Sabtu.",
                    "category": "HEALTH",
                    "targets": [DESA],
                }
            },
            cast.headers["admin"],
        )
        assert published == {"data": {"announcementPublish": {"userErrors": []}}}
        # then
        message = await socket.message()
    assert message["id"] == "board"
    assert message["type"] == "next"
    event = message["payload"]["data"]["announcementEvents"]
    assert (event["kind"], event["announcement"]["title"]) == ("PUBLISHED", "Posyandu")


async def test_validation_and_cost_are_computed_once_per_document(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: a document no earlier test sent, and counters on both steps
    calls = {"validate": 0, "cost": 0}
    operation_cost = kimgraph.cost.operation_cost

    def counting_validate(*args: Any, **kwargs: Any) -> Any:
        calls["validate"] += 1
        return validate(*args, **kwargs)

    def counting_cost(*args: Any, **kwargs: Any) -> Any:
        calls["cost"] += 1
        return operation_cost(*args, **kwargs)

    monkeypatch.setattr("strawberry.schema.schema.validate", counting_validate)
    monkeypatch.setattr(kimgraph.cost, "operation_cost", counting_cost)
    alias = f"r{uuid.uuid4().hex}"
    query = (
        f"query ($after: String) {{ {alias}: regions(first: 2, after: $after) "
        "{ edges { cursor } } }"
    )
    # when: the first page, then the next
    first = await execute(client, query)
    cursor = first["data"][alias]["edges"][-1]["cursor"]
    second = await execute(client, query, {"after": cursor})
    # then
    assert set(first) == set(second) == {"data"}
    assert calls == {"validate": 1, "cost": 1}


# Issue 17, item 8: 14.4 KB and 4,812 tokens (under the limit of 5,000), whose
# validation took 0.7 s of CPU and ended "Validation aborted.".
QUERY_1200_PARENTS = '{region(code:"61.04"){' + "parent{code}" * 1200 + "}}"


async def test_twelve_hundred_fields_are_refused_before_validation(
    client: httpx.AsyncClient, sql_log: QueryLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given
    calls = []

    def counting_validate(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return validate(*args, **kwargs)

    monkeypatch.setattr("strawberry.schema.schema.validate", counting_validate)
    # when
    body = await execute(client, QUERY_1200_PARENTS)
    # then: refused by its size, never validated, nothing read
    assert body == {
        "data": None,
        "errors": [
            {
                "message": "The document selects 2401 fields and fragments, over "
                "the limit of 300: ask for fewer fields, or split the query.",
                "extensions": {
                    "code": "QUERY_TOO_COMPLEX",
                    "selections": 2401,
                    "maxSelections": 300,
                },
            }
        ],
    }
    assert calls == []
    assert sql_log.statements == []


async def test_validation_given_up_is_too_complex(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: graphql-core's work budget for comparing fields, lowered so that
    # a document under the selection limit exhausts it
    monkeypatch.setattr(
        "graphql.validation.rules.overlapping_fields_can_be_merged"
        ".MAX_COMPLEXITY_BUDGET",
        100,
    )
    # when
    body = await execute(client, '{region(code:"61.04"){' + "code " * 20 + "}}")
    # then
    assert body == {
        "data": None,
        "errors": [
            {
                "message": "Validation aborted.",
                "extensions": {"code": "QUERY_TOO_COMPLEX"},
            }
        ],
    }


async def test_too_many_validation_errors_are_too_complex(
    client: httpx.AsyncClient,
) -> None:
    # when: 101 unknown fields; graphql-core stops at 100 errors
    body = await execute(client, "{" + " ".join(f"nope{i}" for i in range(101)) + "}")
    # then
    errors = body["errors"]
    assert len(errors) == 101
    assert {e["extensions"]["code"] for e in errors[:100]} == {
        "GRAPHQL_VALIDATION_FAILED"
    }
    assert errors[100] == {
        "message": "Too many validation errors, error limit reached. "
        "Validation aborted.",
        "extensions": {"code": "QUERY_TOO_COMPLEX"},
    }


async def test_too_deep_introspection_is_too_complex(
    client: httpx.AsyncClient,
) -> None:
    query = "{__schema{types{fields{type{fields{type{fields{type{name}}}}}}}}}"
    body = await execute(client, query)
    assert body == {
        "data": None,
        "errors": [
            {
                "message": "Maximum introspection depth exceeded",
                "locations": [{"line": 1, "column": 2}],
                "extensions": {"code": "QUERY_TOO_COMPLEX"},
            }
        ],
    }
