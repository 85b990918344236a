"""/metrics of a real server while boards are connected, with one or two workers."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.live import (
    ADMIN_PASSWORD,
    ADMIN_RECIPE,
    DEADLINE_S,
    Live,
    Subscriber,
    signed_in,
    token_for,
)
from tests.e2e.provision import provisioned
from tests.e2e.server import Server, running_server

DESA = "61.04.16.2006"
SIBLING_DESA = "61.04.16.2007"

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def samples(live: Live) -> Samples:
    """Every sample of /metrics by (name, sorted labels)."""
    response = await live.http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return parse(response.text)


def parse(text: str) -> Samples:
    """The samples of an exposition text by (name, sorted labels)."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def test_metrics_count_connections_subscriptions_events_and_deliveries(
    live: Live,
) -> None:
    # given: three boards of one desa (one shared run) and one of its neighbour
    cursor = await live.cursor(DESA)
    boards = [await Subscriber.open(live.server, DESA, after=cursor) for _ in range(3)]
    neighbour = await Subscriber.open(
        live.server, SIBLING_DESA, after=await live.cursor(SIBLING_DESA)
    )
    # (a warm-up event: once every board has it, both runs are live)
    await live.publish("Pemanasan", [DESA, SIBLING_DESA])
    for board in [*boards, neighbour]:
        assert (await board.event())["announcement"]["title"] == "Pemanasan"
    before = await samples(live)
    # when: one announcement for both desa
    await live.publish("Kerja bakti Minggu", [DESA, SIBLING_DESA])
    for board in [*boards, neighbour]:
        assert (await board.event())["announcement"]["title"] == "Kerja bakti Minggu"
    after = await samples(live)
    # then
    assert after["kimgraph_websocket_connections", ()] == 4
    assert after["kimgraph_subscriptions", ()] == 4
    assert after["kimgraph_subscription_shared_runs", ()] == 2
    assert after["kimgraph_event_bus_up", ()] == 1
    assert after["kimgraph_events_total", ()] - before["kimgraph_events_total", ()] == 1
    # (a board still replaying when the event came gets it on its own path)
    deliveries = [
        ("kimgraph_event_deliveries_total", (("path", path),))
        for path in ("shared", "own")
    ]
    assert sum(after[d] - before[d] for d in deliveries) == 4
    runs = ("kimgraph_fanout_seconds_count", ())
    assert after[runs] - before[runs] == 2
    assert after["kimgraph_slow_consumer_closes_total", ()] == 0
    assert after["process_resident_memory_bytes", ()] > 0
    # and when the boards leave, the gauges go back to zero
    for board in [*boards, neighbour]:
        await board.close()
    await settled(
        live,
        lambda now: (
            now["kimgraph_websocket_connections", ()] == 0
            and now["kimgraph_subscriptions", ()] == 0
            and now["kimgraph_subscription_shared_runs", ()] == 0
        ),
    )


async def settled(live: Live, condition: Callable[[Samples], bool]) -> Samples:
    """/metrics once the condition holds (polled, with a generous deadline)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DEADLINE_S
    while not condition(now := await samples(live)):
        assert loop.time() < deadline, now
        await asyncio.sleep(0.05)
    return now


QUERY = "query Regions { regions(first: 1) { totalCount } }"
QUERIES_OK = (
    "kimgraph_graphql_operations_total",
    (("outcome", "ok"), ("type", "query")),
)
QUERY_SECONDS = ("kimgraph_graphql_request_seconds_count", (("type", "query"),))
WS = ("kimgraph_websocket_connections", ())
FANOUT = ("kimgraph_fanout_seconds_count", ())
FANOUT_SUM = ("kimgraph_fanout_seconds_sum", ())
EVENTS = ("kimgraph_events_total", ())


@pytest.fixture
def two_workers(tmp_path: Path) -> Iterator[Server]:
    """`kimgraph serve --workers 2` on a fresh SQLite database."""
    with provisioned("sqlite", tmp_path, ADMIN_RECIPE) as (url, _):
        env = {"KIMGRAPH_DATABASE_URL": url, "PYTHONUNBUFFERED": "1"}
        with running_server(tmp_path, env, ["--workers", "2"]) as server:
            yield server


def pids_of(server: Server, prefix: str) -> set[str]:
    """The workers whose access lines carry a request id starting with prefix."""
    line = re.compile(rf"kimgraph\.access \[(\d+) {re.escape(prefix)}\S*\]")
    return set(line.findall(server.output()))


async def until_both_workers(
    server: Server, prefix: str, act: Callable[[str], Awaitable[None]]
) -> int:
    """act(i) with request id prefix + i until two workers logged one; how many."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DEADLINE_S
    count = 0
    while len(pids_of(server, prefix)) < 2 or count < 4:
        assert loop.time() < deadline, pids_of(server, prefix)
        await act(f"{prefix}{count}")
        count += 1
    return count


async def test_one_scrape_counts_the_requests_and_sockets_of_every_worker(
    two_workers: Server,
) -> None:
    server = two_workers

    async def query(rid: str) -> None:
        # a new connection each time: the kernel picks the worker
        async with httpx.AsyncClient(base_url=server.url, trust_env=False) as http:
            response = await http.post(
                "/graphql", json={"query": QUERY}, headers={"X-Request-ID": rid}
            )
            assert response.json()["data"]["regions"]["totalCount"] > 0

    boards: list[Subscriber] = []

    async def board(rid: str) -> None:
        boards.append(await Subscriber.open(server, DESA, request_id=rid))

    async def scrape(rid: str, condition: Callable[[Samples], bool]) -> Samples:
        """A scrape once condition holds: other workers' sockets are <= 1 s late."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + DEADLINE_S
        while True:
            async with httpx.AsyncClient(base_url=server.url, trust_env=False) as c:
                response = await c.get("/metrics", headers={"X-Request-ID": rid})
            now = parse(response.text)
            if condition(now):
                return now
            assert loop.time() < deadline, now.get(WS)
            await asyncio.sleep(0.05)

    # given: queries, on new connections, until both workers answered some
    queries = await until_both_workers(server, "q-", query)
    # and: boards, until both workers hold one
    await until_both_workers(server, "ws-", board)
    # then: every scrape, whichever worker answers it, counts them all
    scrapes: list[Samples] = []

    async def counted(rid: str) -> None:
        scrapes.append(await scrape(rid, lambda now: now[WS] == len(boards)))

    await until_both_workers(server, "m-", counted)
    for now in scrapes:
        assert now[QUERIES_OK] == queries
        assert now[QUERY_SECONDS] == queries
        assert now["kimgraph_subscriptions", ()] == len(boards)
        assert now["process_resident_memory_bytes", ()] > 0
    # and when an announcement comes, each worker's one shared run hands it on
    token = token_for(server, "admin", ADMIN_PASSWORD)
    async with signed_in((server, "", token)) as live:
        await live.publish("Kerja bakti", [DESA])
    for subscriber in boards:
        assert (await subscriber.event())["announcement"]["title"] == "Kerja bakti"
    before = scrapes[-1]
    now = await scrape("f", lambda now: now[FANOUT] - before[FANOUT] == 2)
    assert now[EVENTS] - before[EVENTS] == 2  # each worker read it once
    assert now[FANOUT_SUM] > before[FANOUT_SUM]
    # and when the boards leave, the sum goes back to zero
    for subscriber in boards:
        await subscriber.close()
    now = await scrape("end", lambda now: now[WS] == 0)
    assert now[QUERIES_OK] == queries
