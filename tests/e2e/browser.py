"""Headless Chromium (board, GraphiQL, CORS tests), and servers that come back."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from playwright.async_api import (
    BrowserContext,
    Page,
    Request,
    Route,
    WebSocket,
    WebSocketRoute,
    async_playwright,
)

from tests.e2e.server import Server, wait_until_healthy
from tests.services import service_missing

CHROMIUM = Path("/usr/bin/chromium")
# No sandbox as root; no background traffic, which this machine's network refuses.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREEN = {"width": 1280, "height": 720}


@asynccontextmanager
async def chromium(
    folder: Path, extra_args: Sequence[str] = ()
) -> AsyncIterator[BrowserContext]:
    """Debian's Chromium with a fresh profile in folder; skips if it is absent."""
    if not os.access(CHROMIUM, os.X_OK):
        service_missing(
            f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
        )
    async with async_playwright() as playwright:
        context = await playwright.chromium.launch_persistent_context(
            folder / "chromium-profile",
            executable_path=CHROMIUM,
            headless=True,
            args=[*CHROMIUM_ARGS, *extra_args],
            viewport={"width": SCREEN["width"], "height": SCREEN["height"]},
            reduced_motion="reduce",
        )
        try:
            yield context
        finally:
            await context.close()


@dataclass
class Board:
    """A board page, with what it sent over its sockets and its GraphQL reads."""

    page: Page
    sent: list[dict[str, Any]] = field(default_factory=list)
    received: list[dict[str, Any]] = field(default_factory=list)
    queries: list[Request] = field(default_factory=list)

    @classmethod
    async def open(cls, context: BrowserContext, url: str) -> Board:
        page = context.pages[0] if context.pages else await context.new_page()
        board = cls(page)
        page.on("websocket", board._follow)
        page.on("request", board._request)
        await page.goto(url)
        return board

    def _follow(self, socket: WebSocket) -> None:
        socket.on("framesent", lambda frame: self.sent.append(json.loads(frame)))
        socket.on(
            "framereceived", lambda frame: self.received.append(json.loads(frame))
        )

    def _request(self, request: Request) -> None:
        if request.method == "POST" and urlsplit(request.url).path == "/graphql":
            self.queries.append(request)

    def subscriptions(self) -> list[dict[str, Any]]:
        """The variables of every subscribe message sent, oldest first."""
        return [
            m["payload"]["variables"] for m in self.sent if m["type"] == "subscribe"
        ]

    async def stored(self, region: str) -> dict[str, Any]:
        """What the page keeps in localStorage."""
        raw = await self.page.evaluate(
            "key => localStorage.getItem(key)", f"kimgraph-board:{region}"
        )
        stored: dict[str, Any] = json.loads(raw)
        return stored


# Every name but the loopback address resolves to nothing: a page that tries to
# reach a CDN fails as it would offline.
OFFLINE_ARGS = ["--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]


@dataclass
class Offline:
    """Refuses and records every request of a context to a host:port not allowed."""

    allowed: frozenset[str]
    attempted: list[str] = field(default_factory=list)

    @classmethod
    async def guard(cls, context: BrowserContext, *origins: str) -> Offline:
        """Only origins (scheme://host:port) may be reached, over HTTP or sockets."""
        offline = cls(frozenset(urlsplit(origin).netloc for origin in origins))
        await context.route("**/*", offline._route)
        for page in context.pages:
            page.on("websocket", offline._socket)
        context.on("page", lambda page: page.on("websocket", offline._socket))
        return offline

    async def _route(self, route: Route) -> None:
        if urlsplit(route.request.url).netloc in self.allowed:
            await route.continue_()
        else:
            self.attempted.append(route.request.url)
            await route.abort("blockedbyclient")

    def _socket(self, socket: WebSocket) -> None:
        if urlsplit(socket.url).netloc not in self.allowed:
            self.attempted.append(socket.url)


class SocketTap:
    """Routes a page's sockets through the test, which can close or refuse them."""

    def __init__(self) -> None:
        self.open: list[WebSocketRoute] = []
        self.refusing = False

    async def route(self, socket: WebSocketRoute) -> None:
        if self.refusing:
            await socket.close(code=1013, reason="try again later")
            return
        socket.connect_to_server()
        self.open.append(socket)

    async def close(self, code: int, reason: str) -> None:
        """Close every socket on the page's side, as the server would."""
        while self.open:
            await self.open.pop().close(code=code, reason=reason)


def stop(server: Server) -> None:
    """SIGTERM, as an operator or systemd would, and wait for the exit."""
    server.process.send_signal(signal.SIGTERM)
    try:
        server.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()


@contextmanager
def serving_on(
    port: int, folder: Path, env: Mapping[str, str], log_name: str
) -> Iterator[Server]:
    """`kimgraph serve` on a given port (e.g. the one a stopped server had)."""
    log = folder / log_name
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "kimgraph.cli", "serve", "--port", str(port)],
            cwd=folder,
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    server = Server(url, f"ws://127.0.0.1:{port}/graphql", folder, log, process)
    try:
        wait_until_healthy(url, process, log)
        yield server
    finally:
        stop(server)


def port_of(server: Server) -> int:
    port = urlsplit(server.url).port
    assert port is not None
    return port


def prune_event_log(database_url: str, through: int) -> None:
    """Do what retention does to a SQLite log: drop events up to an id, remember it."""
    path = database_url.removeprefix("sqlite://")
    with sqlite3.connect(path, timeout=30) as db:
        db.execute("DELETE FROM event WHERE id <= ?", (through,))
        db.execute(
            "INSERT INTO event_log_state (id, pruned_through) VALUES (1, ?) "
            "ON CONFLICT (id) DO UPDATE SET pruned_through = excluded.pruned_through",
            (through,),
        )
    db.close()


def newest_event_id(database_url: str) -> int:
    """The highest event id in a SQLite log."""
    path = database_url.removeprefix("sqlite://")
    with sqlite3.connect(path, timeout=30) as db:
        (newest,) = db.execute("SELECT MAX(id) FROM event").fetchone()
    db.close()
    return int(newest)
