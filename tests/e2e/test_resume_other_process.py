"""A subscriber that resumes on another process gets nothing twice (issue 16).

Two `kimgraph serve` processes on one database and no Redis: each reads the
log when it polls (here once in five minutes) or when it publishes itself. A
board hears an event through A, reconnects to B with `after` = that event's
cursor, and B, which has not read the event yet, reads it together with the
next one. The event the board resumed after must not come again, whichever
path B serves it by: a shared run (kimgraph.live.group), a subscription that
runs on its own, or server-sent events (docs/live-delivery.md, "Resuming on
another process").
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.live import (
    DEADLINE_S,
    SUBSCRIPTION_EVENTS,
    Live,
    Subscriber,
    live_server,
)
from tests.e2e.server import Server, running_server

DESA = "61.04.16.2006"  # Suka Bangun, Kecamatan Delta Pawan
SIBLING_DESA = "61.04.16.2007"  # Kali Nilam: the board does not see it
ROUNDS = 8
# Far longer than the test: a process reads the log only when it publishes.
POLL_S = 300.0

# The same subscription with a fragment: not shareable, it runs on its own
# (kimgraph.live.shape).
SUBSCRIPTION_EVENTS_ALONE = """
subscription ($region: String!, $after: String, $below: Boolean) {
  announcementEvents(region: $region, after: $after, includeDescendants: $below) {
    ...event
  }
}
fragment event on AnnouncementEvent {
  cursor kind announcement { id title body status targets { code } }
}
"""


@dataclass
class TwoProcesses:
    """Processes A and B on one database, without Redis, and the admin's token."""

    a: Server
    b: Server
    token: str


@contextmanager
def two_processes(backend: str, folder: Path) -> Iterator[TwoProcesses]:
    (folder / "a").mkdir()
    (folder / "b").mkdir()
    env = {"KIMGRAPH_EVENT_POLL_SECONDS": str(POLL_S)}
    # One SQLite file for both: B is started in A's folder's database.
    with live_server(backend, folder / "a", env) as (server_a, url, token):
        environment = {
            "KIMGRAPH_DATABASE_URL": url,
            "KIMGRAPH_TIMER_INTERVAL_SECONDS": "0.2",
            **env,
        }
        with running_server(folder / "b", environment) as server_b:
            yield TwoProcesses(server_a, server_b, token)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def processes(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TwoProcesses]:
    with two_processes(str(request.param), tmp_path) as both:
        yield both


@asynccontextmanager
async def admin_on(server: Server, token: str) -> AsyncIterator[Live]:
    async with httpx.AsyncClient(base_url=server.url, trust_env=False) as http:
        live = Live(server, "", token)
        live.http = http
        yield live


async def subscriptions(server: Server) -> float:
    """kimgraph_subscriptions from the server's /metrics."""
    async with httpx.AsyncClient(base_url=server.url, trust_env=False) as client:
        text = (await client.get("/metrics")).text
    (line,) = (
        line for line in text.splitlines() if line.startswith("kimgraph_subscriptions ")
    )
    return float(line.split()[-1])


async def until_subscriptions(server: Server, count: float) -> None:
    """Wait until the server follows this many subscriptions (fail at the deadline)."""
    deadline = time.monotonic() + DEADLINE_S
    while (following := await subscriptions(server)) != count:
        assert time.monotonic() < deadline, f"{following} subscriptions, not {count}"
        await asyncio.sleep(0.05)


class SseSubscriber:
    """A graphql-sse client (distinct connections mode) following one subscription."""

    def __init__(self, client: httpx.AsyncClient, response: httpx.Response) -> None:
        self.client = client
        self.response = response
        self.lines = response.aiter_lines()

    @classmethod
    async def open(cls, server: Server, variables: dict[str, Any]) -> SseSubscriber:
        client = httpx.AsyncClient(base_url=server.url, trust_env=False, timeout=None)
        request = client.build_request(
            "POST",
            "/graphql",
            json={"query": SUBSCRIPTION_EVENTS, "variables": variables},
            headers={"accept": "text/event-stream"},
        )
        response = await client.send(request, stream=True)
        assert response.status_code == 200, await response.aread()
        return cls(client, response)

    async def event(self) -> dict[str, Any]:
        """The next `next` event's one root field."""
        kind = None
        async with asyncio.timeout(DEADLINE_S):
            async for line in self.lines:
                if line.startswith("event: "):
                    kind = line.removeprefix("event: ")
                elif line.startswith("data: ") and kind == "next":
                    result = json.loads(line.removeprefix("data: "))
                    assert result.keys() == {"data"}, result
                    event: dict[str, Any] = result["data"]["announcementEvents"]
                    return event
        raise AssertionError("the stream ended")

    async def close(self) -> None:
        await self.response.aclose()
        await self.client.aclose()


async def resumed_on(
    server: Server, path: str, after: str
) -> Subscriber | SseSubscriber:
    variables = {"region": DESA, "after": after, "below": False}
    if path == "sse":
        return await SseSubscriber.open(server, variables)
    query = SUBSCRIPTION_EVENTS if path == "shared" else SUBSCRIPTION_EVENTS_ALONE
    return await Subscriber.follow(server, query, variables)


@pytest.mark.parametrize("path", ["shared", "alone", "sse"])
async def test_a_board_resuming_on_another_process_gets_nothing_twice(
    processes: TwoProcesses, path: str
) -> None:
    async with (
        admin_on(processes.a, processes.token) as on_a,
        admin_on(processes.b, processes.token) as on_b,
    ):
        cursor = await on_a.cursor(DESA)
        for round_ in range(ROUNDS):
            # given: a board hears an event through A, then loses A
            board = await Subscriber.open(processes.a, DESA, after=cursor)
            await on_a.publish(f"Lewat A {round_}", [DESA])
            heard = await board.event()
            assert heard["announcement"]["title"] == f"Lewat A {round_}"
            await board.close()
            # when: it resumes on B after that event, which B has not read yet;
            # once B follows it, B reads that event (publishing elsewhere),
            # then the next one for the board
            resumed = await resumed_on(processes.b, path, heard["cursor"])
            await until_subscriptions(processes.b, 1)
            await on_b.publish(f"Di desa lain {round_}", [SIBLING_DESA])
            await on_b.publish(f"Lewat B {round_}", [DESA])
            # then: the next event is the new one, not the one it resumed after
            event = await resumed.event()
            await resumed.close()
            await until_subscriptions(processes.b, 0)
            assert (event["kind"], event["announcement"]["title"]) == (
                "PUBLISHED",
                f"Lewat B {round_}",
            ), f"round {round_}"
            cursor = event["cursor"]
