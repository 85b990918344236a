"""GraphiQL in headless Chromium, offline: every request to another host is refused.

The page and its files come from the server (kimgraph/graphiql, docs/http.md); a
request anywhere else would be a CDN the page cannot have offline.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest_asyncio
from playwright.async_api import BrowserContext, Page, WebSocket, expect

from kimgraph.graphiql import DEFAULT_QUERY
from tests.e2e.browser import OFFLINE_ARGS, Offline, chromium
from tests.e2e.live import Live, live_server

DEADLINE_MS = 30_000
DESA = "61.04.16.2006"
# From a cursor read before it runs: an event published while the server is still
# setting the subscription up is replayed, not missed.
SUBSCRIPTION = (
    'subscription {{ announcementEvents(region: "{region}", after: "{after}") '
    "{{ kind announcement {{ title }} }} }}"
)
# Content-Security-Policy violations, as the page itself sees them.
WATCH_CSP = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) =>
  window.cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));
"""


@pytest_asyncio.fixture
async def offline(
    tmp_path: Path, live: Live
) -> AsyncIterator[tuple[BrowserContext, Offline]]:
    async with chromium(tmp_path, OFFLINE_ARGS) as context:
        await context.add_init_script(WATCH_CSP)
        yield context, await Offline.guard(context, live.server.url)


async def until(check: Callable[[], bool]) -> None:
    """Wait for a condition on what the test recorded, up to the deadline."""
    deadline = time.monotonic() + DEADLINE_MS / 1000
    while not check():
        assert time.monotonic() < deadline, "not seen within the deadline"
        await asyncio.sleep(0.05)


def kinds(frames: list[dict[str, Any]]) -> list[str]:
    """The frames' types, leaving out keep-alive pings and pongs."""
    return [f["type"] for f in frames if f["type"] not in ("ping", "pong")]


async def editor(page: Page, selector: str) -> str:
    """The text of a CodeMirror editor (which renders only its visible lines)."""
    text: str = await page.eval_on_selector(
        f"{selector} .CodeMirror", "e => e.CodeMirror.getValue()"
    )
    return text


async def type_into(page: Page, selector: str, text: str) -> None:
    await page.eval_on_selector(
        f"{selector} .CodeMirror", "(e, text) => e.CodeMirror.setValue(text)", text
    )


async def response_json(page: Page) -> Any:
    """The response pane once it holds JSON."""
    await page.wait_for_function(
        "() => document.querySelector('.graphiql-response .CodeMirror')"
        ".CodeMirror.getValue().startsWith('{')",
        timeout=DEADLINE_MS,
    )
    return json.loads(await editor(page, ".graphiql-response"))


async def opened(context: BrowserContext, url: str) -> Page:
    page = context.pages[0] if context.pages else await context.new_page()
    await page.goto(url)
    await expect(page.locator(".graphiql-query-editor .CodeMirror")).to_be_visible(
        timeout=DEADLINE_MS
    )
    return page


async def test_graphiql_runs_the_readme_query_offline_and_documents_region(
    live: Live, offline: tuple[BrowserContext, Offline]
) -> None:
    # given: an editor-filling parameter, which the page ignores
    context, guard = offline
    page = await opened(
        context, f"{live.server.url}/graphql?q={quote('{ me { username } }')}"
    )
    assert await editor(page, ".graphiql-query-editor") == DEFAULT_QUERY
    expected = (await live.http.post("/graphql", json={"query": DEFAULT_QUERY})).json()
    # when
    await page.get_by_role("button", name="Execute query (Ctrl-Enter)").click()
    shown = await response_json(page)
    await page.get_by_role("button", name="Show Documentation Explorer").click()
    docs = page.locator(".graphiql-doc-explorer")
    await expect(docs.get_by_role("link", name="Region", exact=True)).to_be_visible(
        timeout=DEADLINE_MS
    )
    await page.get_by_role("button", name="Show GraphiQL Explorer").click()
    await expect(page.locator(".graphiql-explorer-root")).to_be_visible(
        timeout=DEADLINE_MS
    )
    # then
    assert shown == expected
    assert shown["data"]["region"]["name"] == "Kabupaten Ketapang"
    assert await page.evaluate("window.cspViolations") == []
    assert guard.attempted == []


async def test_a_subscription_signs_in_with_the_headers_tab_and_gets_an_event(
    live: Live, offline: tuple[BrowserContext, Offline]
) -> None:
    # given
    context, guard = offline
    page = await opened(context, f"{live.server.url}/graphql")
    sent: list[dict[str, Any]] = []
    received: list[dict[str, Any]] = []

    def follow(socket: WebSocket) -> None:
        socket.on("framesent", lambda frame: sent.append(json.loads(frame)))
        socket.on("framereceived", lambda frame: received.append(json.loads(frame)))

    page.on("websocket", follow)
    await page.get_by_role("button", name="Headers").click()
    bearer = f"Bearer {live.token}"
    await type_into(
        page,
        ".graphiql-editor-tool .graphiql-editor:not(.hidden)",
        json.dumps({"Authorization": bearer}),
    )
    await type_into(page, ".graphiql-query-editor", "{ me { username role } }")
    await page.get_by_role("button", name="Execute query (Ctrl-Enter)").click()
    assert await response_json(page) == {
        "data": {"me": {"username": "admin", "role": "ADMIN"}}
    }
    cursor = await live.cursor(DESA)
    await type_into(
        page,
        ".graphiql-query-editor",
        SUBSCRIPTION.format(region=DESA, after=cursor),
    )
    # when
    await page.get_by_role("button", name="Execute query (Ctrl-Enter)").click()
    await page.wait_for_function(
        "() => document.querySelector('.graphiql-response .CodeMirror')"
        ".CodeMirror.getValue() === ''",
        timeout=DEADLINE_MS,
    )
    await until(lambda: "subscribe" in kinds(sent))
    await live.publish("Kerja bakti hari Minggu", [DESA])
    # then
    assert await response_json(page) == {
        "data": {
            "announcementEvents": {
                "kind": "PUBLISHED",
                "announcement": {"title": "Kerja bakti hari Minggu"},
            }
        }
    }
    assert kinds(sent)[:2] == ["connection_init", "subscribe"]
    assert sent[0] == {"type": "connection_init", "payload": {"Authorization": bearer}}
    assert kinds(received)[0] == "connection_ack"
    # the page does keep its editor in storage, but not the headers (on a
    # loaded machine GraphiQL may not yet have written this run's history)
    await page.wait_for_function(
        "() => localStorage.getItem('graphiql:query') !== null", timeout=DEADLINE_MS
    )
    stored = await page.evaluate(
        "() => JSON.stringify([{...localStorage}, {...sessionStorage}])"
    )
    assert live.token not in stored
    assert await page.evaluate("window.cspViolations") == []
    assert guard.attempted == []


async def test_with_graphiql_off_a_browser_gets_the_404_answer(tmp_path: Path) -> None:
    # given
    with live_server("sqlite", tmp_path, {"KIMGRAPH_GRAPHIQL": "0"}) as (server, *_):
        # when
        async with httpx.AsyncClient(trust_env=False) as http:
            page = await http.get(
                f"{server.url}/graphql", headers={"accept": "text/html"}
            )
    # then
    assert (page.status_code, page.headers["content-type"]) == (
        404,
        "application/json",
    )
