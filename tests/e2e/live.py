"""Helpers for live tests: a server with an admin token, GraphQL and WebSocket calls."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

from tests.e2e.provision import provisioned
from tests.e2e.server import Server, running_server

DEADLINE_S = 30.0
ADMIN_PASSWORD = "kata-sandi-admin-123"

MUTATION_PUBLISH = """
mutation ($input: AnnouncementPublishInput!) {
  announcementPublish(input: $input) {
    announcement { id title status revision }
    userErrors { field code message }
  }
}
"""
MUTATION_WITHDRAW = """
mutation ($id: ID!, $reason: String!) {
  announcementWithdraw(id: $id, reason: $reason) {
    announcement { id status } userErrors { code message }
  }
}
"""
SUBSCRIPTION_EVENTS = """
subscription ($region: String!, $after: String, $below: Boolean) {
  announcementEvents(region: $region, after: $after, includeDescendants: $below) {
    cursor kind announcement { id title body status targets { code } }
  }
}
"""
QUERY_BOARD = """
query ($region: String!) {
  announcements(region: $region, first: 100) {
    eventCursor edges { node { id title } }
  }
}
"""


@dataclass
class Live:
    """A running server, signed in as the kabupaten's admin."""

    server: Server
    database_url: str
    token: str
    http: httpx.AsyncClient = field(init=False)

    async def graphql(self, query: str, variables: dict[str, Any] | None = None) -> Any:
        response = await self.http.post(
            "/graphql",
            json={"query": query, "variables": variables or {}},
            headers={"authorization": f"Bearer {self.token}"},
        )
        body = response.json()
        assert "errors" not in body, body
        return body["data"]

    async def cursor(self, region: str) -> str:
        """The eventCursor of a fresh read: subscribing after it misses nothing."""
        data = await self.graphql(QUERY_BOARD, {"region": region})
        return str(data["announcements"]["eventCursor"])

    async def publish(self, title: str, targets: list[str], **extra: Any) -> str:
        """Publish; the new announcement's id."""
        data = await self.graphql(
            MUTATION_PUBLISH,
            {
                "input": {
                    "title": title,
                    "body": f"Isi pengumuman {title}",
                    "category": "GENERAL",
                    "targets": targets,
                }
                | extra
            },
        )
        payload = data["announcementPublish"]
        assert payload["userErrors"] == [], payload
        return str(payload["announcement"]["id"])


@asynccontextmanager
async def signed_in(deployment: tuple[Server, str, str]) -> AsyncIterator[Live]:
    """The deployment (server, database URL, admin token) with an HTTP client."""
    server, url, token = deployment
    state = Live(server, url, token)
    async with httpx.AsyncClient(base_url=server.url, trust_env=False) as http:
        state.http = http
        yield state


def cli(*args: str, env: dict[str, str], cwd: Path, stderr: bool = False) -> str:
    """Run `kimgraph` like an operator; its standard output (and error)."""
    result = subprocess.run(
        [sys.executable, "-m", "kimgraph.cli", *args],
        env={**os.environ, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return result.stdout + (result.stderr if stderr else "")


# The admin every deployment has, created as an operator would (provision.py).
ADMIN_RECIPE = [
    [
        "cli",
        "accounts",
        "create",
        "--username",
        "admin",
        "--role",
        "ADMIN",
        "--region",
        "61.04",
        "--password",
        ADMIN_PASSWORD,
    ]
]


def token_for(server: Server, username: str, password: str) -> str:
    """A new access token for the account, from tokenCreate."""
    response = httpx.post(
        f"{server.url}/graphql",
        json={
            "query": "mutation ($i: TokenCreateInput!) "
            "{ tokenCreate(input: $i) { token } }",
            "variables": {"i": {"username": username, "password": password}},
        },
        trust_env=False,
    )
    return str(response.json()["data"]["tokenCreate"]["token"])


@contextmanager
def provisioned_server(
    backend: str, folder: Path, env: dict[str, str] | None, recipe: list[list[str]]
) -> Iterator[tuple[Server, str, list[str]]]:
    """A server on a copy of a database provisioned once per run with the admin
    and then the recipe (provision.py); (server, url, each step's output)."""
    with provisioned(backend, folder, ADMIN_RECIPE + recipe) as (url, outputs):
        environment = {
            "KIMGRAPH_DATABASE_URL": url,
            "KIMGRAPH_TIMER_INTERVAL_SECONDS": "0.2",
            **(env or {}),
        }
        with running_server(folder, environment) as server:
            yield server, url, outputs


@contextmanager
def live_server(
    backend: str, folder: Path, env: dict[str, str] | None = None
) -> Iterator[tuple[Server, str, str]]:
    """A server on a fresh database with an admin account; (server, url, token)."""
    with provisioned_server(backend, folder, env, []) as (server, url, _):
        yield server, url, token_for(server, "admin", ADMIN_PASSWORD)


class Subscriber:
    """A graphql-transport-ws client following one subscription."""

    def __init__(self, ws: ClientConnection, keep_frames: bool = False) -> None:
        self.ws = ws
        self.pings = 0
        self.keep_frames = keep_frames
        # Raw frames, pings included, so a test can search what crossed the wire;
        # only on request, as a heavy subscription would hold every 100 KB frame.
        self.frames: list[str] = []

    @classmethod
    async def open(
        cls,
        server: Server,
        region: str,
        after: str | None = None,
        include_descendants: bool = False,
        max_size: int | None = 2**20,
        receive_buffer: int | None = None,
        query: str = SUBSCRIPTION_EVENTS,
        authorization: str | None = None,
        request_id: str | None = None,
    ) -> Subscriber:
        """Follow announcementEvents (or another query with the same variables)."""
        variables = {"region": region, "after": after, "below": include_descendants}
        return await cls.follow(
            server,
            query,
            variables,
            authorization,
            max_size=max_size,
            receive_buffer=receive_buffer,
            request_id=request_id,
        )

    @classmethod
    async def follow(
        cls,
        server: Server,
        query: str,
        variables: dict[str, Any],
        authorization: str | None = None,
        max_size: int | None = 2**20,
        receive_buffer: int | None = None,
        keep_frames: bool = False,
        request_id: str | None = None,
    ) -> Subscriber:
        """Connect, send connection_init, await the ack and subscribe to query."""
        sock = None
        if receive_buffer is not None:
            # A small kernel buffer, set before connecting so the TCP window
            # stays small: a reader that stops then pushes back at once.
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
            sock.setblocking(False)
            host, port = server.url.removeprefix("http://").split(":")
            await asyncio.get_running_loop().sock_connect(sock, (host, int(port)))
        ws = await connect(
            server.ws_url,
            subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
            proxy=None,
            open_timeout=DEADLINE_S,
            max_size=max_size,
            max_queue=4 if receive_buffer is not None else 16,
            sock=sock,
            additional_headers={"X-Request-ID": request_id} if request_id else None,
        )
        payload = {"authorization": authorization} if authorization else {}
        await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
        subscriber = cls(ws, keep_frames)
        ack = await subscriber.message()
        assert ack == {"type": "connection_ack"}, ack
        await ws.send(
            json.dumps(
                {
                    "id": "events",
                    "type": "subscribe",
                    "payload": {"query": query, "variables": variables},
                }
            )
        )
        return subscriber

    async def message(self) -> dict[str, Any]:
        """The next message other than a ping (answered with a pong).

        One deadline for the whole wait: pings alone never keep it waiting.
        """
        async with asyncio.timeout(DEADLINE_S):
            return await self._message()

    async def _message(self) -> dict[str, Any]:
        while True:
            raw = await self.ws.recv(decode=True)
            if self.keep_frames:
                self.frames.append(raw)
            message: dict[str, Any] = json.loads(raw)
            if message.get("type") == "ping":
                self.pings += 1
                await self.ws.send(json.dumps({"type": "pong"}))
                continue
            return message

    async def event(self) -> dict[str, Any]:
        """The next subscription event: the one root field of a `next` message."""
        message = await self.message()
        assert message.get("type") == "next", message
        assert "errors" not in message["payload"], message
        event: dict[str, Any]
        (event,) = message["payload"]["data"].values()
        return event

    async def events(self, count: int) -> list[dict[str, Any]]:
        return [await self.event() for _ in range(count)]

    async def nothing_within(self, seconds: float) -> bool:
        """True if no event arrives within the given time."""
        try:
            message = await asyncio.wait_for(self.message(), seconds)
        except TimeoutError:
            return True
        raise AssertionError(f"unexpected message {message}")

    async def close(self) -> None:
        await self.ws.close()


def utc_in(seconds: float) -> str:
    """An ISO time this many seconds from now."""
    now = datetime.now(UTC).timestamp() + seconds
    return datetime.fromtimestamp(now, UTC).isoformat()


def token_suffix() -> str:
    return secrets.token_hex(3)
