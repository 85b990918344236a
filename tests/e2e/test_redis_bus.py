"""Two `kimgraph serve` processes on one PostgreSQL database: doorbells or polling."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.live import DEADLINE_S, Live, Subscriber, live_server
from tests.e2e.server import Server, free_port, running_server
from tests.services import redis_url

DESA = "61.04.16.2006"  # Suka Bangun, Kecamatan Delta Pawan
# Far longer than any wait below: only a doorbell explains prompt delivery.
LONG_POLL_S = 60.0
SHORT_POLL_S = 0.5


@dataclass
class Processes:
    """Process A (with the admin's token) and process B, sharing one database."""

    a: Server
    b: Server
    token: str

    @asynccontextmanager
    async def admin_on_a(self) -> AsyncIterator[Live]:
        async with httpx.AsyncClient(base_url=self.a.url, trust_env=False) as http:
            live = Live(self.a, "", self.token)
            live.http = http
            yield live


@contextmanager
def two_processes(folder: Path, env: Mapping[str, str]) -> Iterator[Processes]:
    (folder / "a").mkdir()
    (folder / "b").mkdir()
    with live_server("postgres", folder / "a", dict(env)) as (server_a, url, token):
        environment = {
            "KIMGRAPH_DATABASE_URL": url,
            "KIMGRAPH_TIMER_INTERVAL_SECONDS": "0.2",
            **env,
        }
        with running_server(folder / "b", environment) as server_b:
            yield Processes(server_a, server_b, token)


@pytest.fixture(params=[pytest.param("postgres", marks=pytest.mark.postgres)])
def with_redis(tmp_path: Path) -> Iterator[Processes]:
    """Two processes following Redis, polling the log only once a minute."""
    env = {
        "KIMGRAPH_REDIS_URL": redis_url(),
        "KIMGRAPH_EVENT_POLL_SECONDS": str(LONG_POLL_S),
    }
    with two_processes(tmp_path, env) as processes:
        yield processes


@pytest.fixture(params=[pytest.param("postgres", marks=pytest.mark.postgres)])
def without_redis(tmp_path: Path) -> Iterator[Processes]:
    """Two processes given a Redis URL where nothing listens; polling often."""
    env = {
        "KIMGRAPH_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
        "KIMGRAPH_EVENT_POLL_SECONDS": str(SHORT_POLL_S),
    }
    with two_processes(tmp_path, env) as processes:
        yield processes


async def readiness(server: Server) -> tuple[int, Any]:
    async with httpx.AsyncClient(base_url=server.url, trust_env=False) as client:
        response = await client.get("/readyz")
    return response.status_code, response.json()


async def until_ready_with(server: Server, expected: tuple[int, Any]) -> None:
    """Wait until /readyz answers as expected; fail after the deadline."""
    deadline = time.monotonic() + DEADLINE_S
    while (answer := await readiness(server)) != expected:
        assert time.monotonic() < deadline, f"/readyz still answers {answer}"
        await asyncio.sleep(0.1)


async def publish_through(server: Server, token: str, title: str) -> None:
    """Publish the way process A's Live does, but through another server."""
    async with httpx.AsyncClient(base_url=server.url, trust_env=False) as http:
        other = Live(server, "", token)
        other.http = http
        await other.publish(title, [DESA])


READY = (200, {"status": "ok", "database": "ok", "eventBus": "ok"})
DEGRADED = (
    200,
    {
        "status": "degraded",
        "database": "ok",
        "eventBus": "unreachable (polling the event log)",
    },
)


async def test_a_board_on_one_process_hears_what_another_publishes_at_once(
    with_redis: Processes,
) -> None:
    # given: both following Redis
    await until_ready_with(with_redis.a, READY)
    await until_ready_with(with_redis.b, READY)
    board = await Subscriber.open(with_redis.b, DESA)
    # and: the board is live (B's own publication reaches it)
    await publish_through(with_redis.b, with_redis.token, "Dari proses B")
    assert (await board.event())["announcement"]["title"] == "Dari proses B"
    async with with_redis.admin_on_a() as admin:
        # when
        published_at = time.monotonic()
        await admin.publish("Dari proses A", [DESA])
        # then: B's next log poll is a minute away
        event = await board.event()
    assert (event["kind"], event["announcement"]["title"]) == (
        "PUBLISHED",
        "Dari proses A",
    )
    assert time.monotonic() - published_at < LONG_POLL_S / 2
    await board.close()


async def test_without_redis_processes_serve_and_deliver_by_polling(
    without_redis: Processes,
) -> None:
    # then: both started, and stay in the load balancer
    assert await readiness(without_redis.a) == DEGRADED
    assert await readiness(without_redis.b) == DEGRADED
    async with without_redis.admin_on_a() as admin:
        board = await Subscriber.open(
            without_redis.b, DESA, after=await admin.cursor(DESA)
        )
        # when
        await admin.publish("Tanpa Redis", [DESA])
    # then: B finds it in the log
    event = await board.event()
    assert event["announcement"]["title"] == "Tanpa Redis"
    await board.close()
    assert "Redis unreachable; polling the event log" in without_redis.b.output()
