"""Prometheus /metrics: connections, subscriptions, events, fan-out, slow consumers.

The numbers are counted where the work happens (kimgraph.live.stats, the hub,
the protocol handler, kimgraph.live.slow_consumers) as plain integers; they are
read and formatted only when /metrics is scraped, so the fan-out pays nothing
for them. They describe this process; separate servers are each scraped, and
Prometheus sums them.

The GraphQL request counts and latencies (kimgraph.request_log) are
prometheus_client metrics. Under `serve --workers N` all of them, the live
numbers copied every second (kimgraph.live.mirror), are kept in
prometheus_client's multiprocess mode, so that whichever worker answers a
scrape reports every worker's (docs/operations.md, "Metrics with several
workers").
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable, Iterable, Iterator
from contextlib import suppress
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.gc_collector import GCCollector
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

from kimgraph.live.addresses import ConnectionsPerAddress
from kimgraph.live.http_streams import OpenStreams
from kimgraph.live.hub import Hub
from kimgraph.live.legacy import LegacyWSHandler
from kimgraph.live.mirror import MULTIPROCESS_DIR, Mirror, bury
from kimgraph.live.protocol import TransportWSHandler
from kimgraph.live.sharing import Sharing
from kimgraph.live.slow_consumers import SlowConsumers
from kimgraph.request_log import OPERATIONS, SECONDS

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# How stale a scrape may find another worker's live numbers.
MIRROR_SECONDS = 1.0
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Sources:
    """Where the numbers of one app live."""

    hub: Hub
    sharing: Sharing


class _Collector(Collector):
    def __init__(self, sources: Sources, bus_up: bool) -> None:
        self.sources = sources
        self.bus_up = bus_up

    def collect(self) -> Iterable[Metric]:
        return list(self._metrics())

    def _metrics(self) -> Iterator[Metric]:
        hub, sharing = self.sources.hub, self.sources.sharing
        stats = sharing.stats
        yield GaugeMetricFamily(
            "kimgraph_websocket_connections",
            "Open WebSocket connections, both protocols.",
            value=TransportWSHandler.open_connections
            + LegacyWSHandler.open_connections,
        )
        yield GaugeMetricFamily(
            "kimgraph_websocket_legacy_connections",
            "Open connections on the legacy graphql-ws protocol (counted above too).",
            value=LegacyWSHandler.open_connections,
        )
        streams = GaugeMetricFamily(
            "kimgraph_http_subscription_streams",
            "Open subscription streams over HTTP (graphql-sse, multipart).",
            labels=["protocol"],
        )
        for protocol, count in OpenStreams.count.items():
            streams.add_metric([protocol], count)
        yield streams
        yield CounterMetricFamily(
            "kimgraph_websocket_refusals",
            "WebSocket handshakes refused (HTTP 403): the address held its cap.",
            value=ConnectionsPerAddress.refused,
        )
        groups = len(sharing.groups)
        yield GaugeMetricFamily(
            "kimgraph_subscriptions",
            "Active subscription operations (shared and run alone).",
            value=sharing.member_count + hub.subscriber_count - groups,
        )
        yield GaugeMetricFamily(
            "kimgraph_subscription_shared_runs",
            "Shared executions, each serving all identical subscriptions.",
            value=groups,
        )
        yield CounterMetricFamily(
            "kimgraph_events",
            "Events read from the event log by this process.",
            value=hub.events_read,
        )
        yield GaugeMetricFamily(
            "kimgraph_event_log_position",
            "Id of the last event this process has read.",
            value=hub.position,
        )
        deliveries = CounterMetricFamily(
            "kimgraph_event_deliveries",
            "Events sent to subscribers: by a shared run to its members, or on "
            "an operation's own (run alone, replaying, or on legacy graphql-ws).",
            labels=["path"],
        )
        deliveries.add_metric(["shared"], stats.deliveries)
        deliveries.add_metric(
            ["own"],
            TransportWSHandler.own_next_messages + LegacyWSHandler.data_messages,
        )
        yield deliveries
        yield HistogramMetricFamily(
            "kimgraph_fanout_seconds",
            "Time a shared run took to hand one event to all its members.",
            buckets=stats.seconds.cumulative(),
            sum_value=stats.seconds.total,
        )
        yield CounterMetricFamily(
            "kimgraph_slow_consumer_closes",
            "Subscribers closed with 1013 for falling behind.",
            value=SlowConsumers.closed,
        )
        yield GaugeMetricFamily(
            "kimgraph_event_bus_up",
            "1 if the event bus answers; 0 means delivery relies on polling the log.",
            value=1 if self.bus_up else 0,
        )


@dataclass(frozen=True)
class Snapshot:
    """This process's numbers: its collectors, and exposition text others wrote.

    (kimgraph.read_cache writes its own lines: they are the text.)
    """

    registry: CollectorRegistry
    text: str = ""

    def families(self) -> list[Metric]:
        return [
            *self.registry.collect(),
            *text_string_to_metric_families(self.text),
        ]


def snapshot(sources: Sources, *, bus_up: bool, text: str = "") -> Snapshot:
    """The live numbers, with the process's own memory, CPU and GC."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collector(sources, bus_up))
    ProcessCollector(registry=registry)
    GCCollector(registry=registry)
    return Snapshot(registry, text)


def multiprocess() -> bool:
    """True under `serve --workers N`: prometheus_client's multiprocess mode."""
    return bool(os.environ.get(MULTIPROCESS_DIR))


class Publisher:
    """/metrics of this process or, under --workers N, of all the workers.

    The live numbers are plain integers of each process (the fan-out pays
    nothing for them), so in multiprocess mode each worker copies them every
    MIRROR_SECONDS into prometheus_client's files (kimgraph.live.mirror): a
    scrape, whichever worker answers it, then adds up every worker's.
    """

    def __init__(self, snapshot: Callable[[], Awaitable[Snapshot]]) -> None:
        self.snapshot = snapshot
        self.mirror = Mirror() if multiprocess() else None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self.mirror is not None:
            self._task = asyncio.create_task(self._copy_every(MIRROR_SECONDS))

    async def _copy_every(self, seconds: float) -> None:
        assert self.mirror is not None
        while True:
            try:
                self.mirror.copy((await self.snapshot()).families())
            except Exception:  # the next round tries again; /metrics still answers
                logger.exception("copying this worker's metrics failed")
            await asyncio.sleep(seconds)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task
        if self.mirror is not None:
            bury(os.getpid())

    async def render(self) -> bytes:
        """The exposition text."""
        now = await self.snapshot()
        if self.mirror is None:
            now.registry.register(OPERATIONS)
            now.registry.register(SECONDS)
            return generate_latest(now.registry) + now.text.encode()
        self.mirror.copy(now.families())  # this worker's numbers as of now
        merged = CollectorRegistry(auto_describe=False)
        MultiProcessCollector(merged)  # type: ignore[no-untyped-call]
        return generate_latest(merged)
