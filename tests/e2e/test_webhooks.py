"""A real `kimgraph serve` stopped and started again amid webhook delivery."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from kimgraph.cursors import decode_event_cursor
from tests.e2e.live import ADMIN_PASSWORD, ADMIN_RECIPE, token_for
from tests.e2e.provision import provisioned
from tests.e2e.server import Server, running_server
from tests.kimgraph.test_webhooks import CONTACT, REPORTER, receiving
from tests.people import HOME_DESA

DEADLINE_S = 90.0
RECIPE = [["cli", "apikeys", "create", "--name", "Mitra Webhook", "--region", "61.04"]]
TITLES = [
    "Lampu jalan mati",
    "Saluran air tersumbat",
    "Jembatan retak",
    "Pohon tumbang",
]


async def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


async def graphql(
    server: Server, query: str, variables: dict[str, Any], token: str | None = None
) -> Any:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(base_url=server.url, trust_env=False) as http:
        response = await http.post(
            "/graphql", json={"query": query, "variables": variables}, headers=headers
        )
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


async def submit(server: Server, title: str) -> None:
    data = await graphql(
        server,
        "mutation ($i: AspirationSubmitInput!) "
        "{ aspirationSubmit(input: $i) { userErrors { code } } }",
        {
            "i": {
                "region": HOME_DESA,
                "title": title,
                "description": "Sudah seminggu belum ditangani.",
                "category": "INFRASTRUCTURE",
                "reporterName": REPORTER,
                "reporterContact": CONTACT,
                "visibility": "PUBLIC",
            }
        },
    )
    assert data["aspirationSubmit"]["userErrors"] == []


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A provisioned database (an admin, a partner key) on each backend."""
    with provisioned(str(request.param), tmp_path, ADMIN_RECIPE + RECIPE) as (url, _):
        yield url


async def test_a_restart_in_the_middle_loses_no_delivery(
    tmp_path: Path, database: str
) -> None:
    # given: a receiver that acknowledges the first event and hangs on the next
    hang = [True]

    def answer(n: int) -> int:
        return 0 if n == 1 and hang[0] else 200

    env = {"KIMGRAPH_WEBHOOKS_ALLOW_HTTP": "1", "KIMGRAPH_EVENT_POLL_SECONDS": "0.2"}
    with receiving(answer) as receiver:
        env["KIMGRAPH_DATABASE_URL"] = database
        with running_server(tmp_path, env) as first:
            token = token_for(first, "admin", ADMIN_PASSWORD)
            keys = await graphql(first, "{ apiKeys { id name } }", {}, token)
            key = next(k for k in keys["apiKeys"] if k["name"] == "Mitra Webhook")
            made = await graphql(
                first,
                "mutation ($i: WebhookCreateInput!) { webhookCreate(input: $i) "
                "{ webhook { id } secret userErrors { message } } }",
                {"i": {"apiKeyId": key["id"], "url": receiver.url}},
                token,
            )
            assert made["webhookCreate"]["userErrors"] == []
            for title in TITLES[:3]:
                await submit(first, title)
            # when: the server stops while the second event is in flight
            await wait_for(lambda: len(receiver.requests) == 2, "the second event")
        hang[0] = False
        with running_server(tmp_path, env) as second:
            await submit(second, TITLES[3])
            # then: every event is acknowledged exactly once, in order
            await wait_for(lambda: len(receiver.acknowledged()) == 4, "four events")
            titles = [
                b["event"]["aspiration"]["title"] for b in receiver.acknowledged()
            ]
            assert titles == TITLES
            ids = [decode_event_cursor(b["eventId"]) for b in receiver.acknowledged()]
            assert ids == sorted(set(ids))
            # the interrupted one was sent again with the same event id
            assert (
                json.loads(receiver.requests[1].body)["eventId"]
                == json.loads(receiver.requests[2].body)["eventId"]
            )
            assert all(REPORTER.encode() not in r.body for r in receiver.requests)
            assert all(CONTACT.encode() not in r.body for r in receiver.requests)
