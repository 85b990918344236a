"""A browser app on another origin (a Vite dev server, say) against a real server.

KIMGRAPH_ALLOWED_ORIGINS opens HTTP (CORS) and WebSockets alike; an origin not
listed gets neither (docs/http.md).
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from playwright.async_api import BrowserContext, Page

from tests.e2e.browser import chromium
from tests.e2e.live import (
    MUTATION_PUBLISH,
    QUERY_BOARD,
    SUBSCRIPTION_EVENTS,
    Live,
    live_server,
    signed_in,
)
from tests.e2e.server import free_port

DESA = "61.04.16.2006"
DEADLINE_MS = 30_000

FETCH = """
async ({ url, token, query, variables }) => {
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: token },
      body: JSON.stringify({ query, variables }),
    });
    return { status: response.status, body: await response.json() };
  } catch (error) {
    return { error: `${error.name}: ${error.message}` };
  }
}
"""
# Resolves once subscribed ("ready") or once the socket is closed ("closed CODE");
# events arrive in window.events.
SUBSCRIBE = """
({ url, token, query, variables }) => new Promise((resolve) => {
  window.events = [];
  const socket = new WebSocket(url, "graphql-transport-ws");
  socket.onopen = () => socket.send(JSON.stringify(
    { type: "connection_init", payload: { Authorization: token } }));
  socket.onmessage = (message) => {
    const data = JSON.parse(message.data);
    if (data.type === "connection_ack") {
      socket.send(JSON.stringify(
        { id: "1", type: "subscribe", payload: { query, variables } }));
      resolve("ready");
    } else if (data.type === "next") {
      window.events.push(data.payload.data.announcementEvents.announcement.title);
    }
  };
  socket.onclose = (event) => resolve(`closed ${event.code}`);
})
"""


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """No access log on the test's output."""


@pytest.fixture
def app_origins(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """Two static sites serving an empty page: (listed origin, unlisted origin)."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("<!doctype html><title>app</title>")
    servers = [
        ThreadingHTTPServer(("127.0.0.1", free_port()), partial(Quiet, directory=site))
        for _ in range(2)
    ]
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in servers]
    for thread in threads:
        thread.start()
    try:
        listed, unlisted = (f"http://127.0.0.1:{s.server_port}" for s in servers)
        yield listed, unlisted
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()


@pytest_asyncio.fixture
async def live(tmp_path: Path, app_origins: tuple[str, str]) -> AsyncIterator[Live]:
    listed, _ = app_origins
    env = {"KIMGRAPH_ALLOWED_ORIGINS": listed}
    with live_server("sqlite", tmp_path, env) as deployment:
        async with signed_in(deployment) as state:
            yield state


@pytest_asyncio.fixture
async def browser(tmp_path: Path) -> AsyncIterator[BrowserContext]:
    async with chromium(tmp_path) as context:
        yield context


async def app_page(browser: BrowserContext, origin: str) -> Page:
    page = browser.pages[0] if browser.pages else await browser.new_page()
    await page.goto(f"{origin}/index.html")
    return page


async def test_a_listed_origin_fetches_with_a_bearer_token_and_subscribes(
    browser: BrowserContext, live: Live, app_origins: tuple[str, str]
) -> None:
    # given
    page = await app_page(browser, app_origins[0])
    token = f"Bearer {live.token}"
    cursor = await live.cursor(DESA)
    # when
    read = await page.evaluate(
        FETCH,
        {
            "url": f"{live.server.url}/graphql",
            "token": token,
            "query": QUERY_BOARD,
            "variables": {"region": DESA},
        },
    )
    subscribed = await page.evaluate(
        SUBSCRIBE,
        {
            "url": live.server.ws_url,
            "token": token,
            "query": SUBSCRIPTION_EVENTS,
            "variables": {"region": DESA, "after": cursor},
        },
    )
    await live.publish("Pemadaman listrik terjadwal", [DESA])
    await page.wait_for_function("window.events.length > 0", timeout=DEADLINE_MS)
    # then
    assert read == {
        "status": 200,
        "body": {
            "data": {"announcements": {"eventCursor": cursor, "edges": []}},
        },
    }
    assert subscribed == "ready"
    assert await page.evaluate("window.events") == ["Pemadaman listrik terjadwal"]


async def test_an_unlisted_origin_can_neither_fetch_nor_subscribe(
    browser: BrowserContext, live: Live, app_origins: tuple[str, str]
) -> None:
    # given
    page = await app_page(browser, app_origins[1])
    token = f"Bearer {live.token}"
    publish = {
        "input": {
            "title": "Dari situs lain",
            "body": "Tidak boleh terbit.",
            "category": "GENERAL",
            "targets": [DESA],
        }
    }
    # when
    written = await page.evaluate(
        FETCH,
        {
            "url": f"{live.server.url}/graphql",
            "token": token,
            "query": MUTATION_PUBLISH,
            "variables": publish,
        },
    )
    subscribed = await page.evaluate(
        SUBSCRIBE,
        {
            "url": live.server.ws_url,
            "token": token,
            "query": SUBSCRIPTION_EVENTS,
            "variables": {"region": DESA},
        },
    )
    # then: the preflight failed, so the mutation was never sent
    assert written == {"error": "TypeError: Failed to fetch"}
    assert subscribed == "closed 1006"
    board = await live.graphql(QUERY_BOARD, {"region": DESA})
    assert board["announcements"]["edges"] == []
