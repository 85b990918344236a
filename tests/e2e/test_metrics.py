"""/metrics of a real server while boards are connected."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.live import DEADLINE_S, Live, Subscriber

DESA = "61.04.16.2006"
SIBLING_DESA = "61.04.16.2007"

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def samples(live: Live) -> Samples:
    """Every sample of /metrics by (name, sorted labels)."""
    response = await live.http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
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
