"""Prometheus /metrics: connections, subscriptions, events, fan-out, slow consumers.

The numbers are counted where the work happens (kimgraph.live.stats, the hub,
the protocol handler, kimgraph.live.slow_consumers) as plain integers; they are
read and formatted only when /metrics is scraped, so the fan-out pays nothing
for them. They describe this process: with several processes, Prometheus
scrapes each and sums.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.gc_collector import GCCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

from kimgraph.live.addresses import ConnectionsPerAddress
from kimgraph.live.http_streams import OpenStreams
from kimgraph.live.hub import Hub
from kimgraph.live.legacy import LegacyWSHandler
from kimgraph.live.protocol import TransportWSHandler
from kimgraph.live.sharing import Sharing
from kimgraph.live.slow_consumers import SlowConsumers

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


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


def render(sources: Sources, *, bus_up: bool) -> bytes:
    """The exposition text, with the process's own memory, CPU and GC."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collector(sources, bus_up))
    ProcessCollector(registry=registry)
    GCCollector(registry=registry)
    return generate_latest(registry)
