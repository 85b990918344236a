"""/metrics in process, and the histogram behind the fan-out time."""

from __future__ import annotations

import httpx

from kimgraph.live.stats import Histogram


def test_a_histogram_counts_each_bucket_up_to_its_bound() -> None:
    histogram = Histogram((0.01, 0.1, 1.0))
    for seconds in (0.005, 0.01, 0.05, 0.5, 3.0):
        histogram.observe(seconds)
    assert histogram.cumulative() == [
        ("0.01", 2),
        ("0.1", 3),
        ("1.0", 4),
        ("+Inf", 5),
    ]
    assert histogram.count == 5
    assert histogram.total == 3.565


async def test_metrics_are_prometheus_text_with_nothing_connected(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"] == (
        "text/plain; version=0.0.4; charset=utf-8"
    )
    lines = set(response.text.splitlines())
    assert {
        "kimgraph_subscriptions 0.0",
        "kimgraph_subscription_shared_runs 0.0",
        "kimgraph_event_bus_up 1.0",
        'kimgraph_fanout_seconds_bucket{le="+Inf"} 0.0',
    } <= lines
    assert any(line.startswith("process_resident_memory_bytes ") for line in lines)
