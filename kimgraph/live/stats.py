"""Counting what the server does, cheaply enough for its hot paths.

Plain numbers the fan-out increments as it goes; kimgraph.metrics turns them
into Prometheus text when /metrics is read.
"""

from __future__ import annotations

from bisect import bisect_left

# Upper bounds, in seconds, of the fan-out time buckets.
FAN_OUT_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class Histogram:
    """Observations counted per bucket (not cumulative), with their sum."""

    __slots__ = ("bounds", "counts", "total")

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds = bounds
        # One more than the bounds: the last counts what exceeds them all.
        self.counts = [0] * (len(bounds) + 1)
        self.total = 0.0

    def observe(self, value: float) -> None:
        self.counts[bisect_left(self.bounds, value)] += 1
        self.total += value

    @property
    def count(self) -> int:
        return sum(self.counts)

    def cumulative(self) -> list[tuple[str, int]]:
        """(upper bound as Prometheus writes it, observations up to it), +Inf last."""
        buckets, running = [], 0
        for bound, count in zip((*self.bounds, float("inf")), self.counts, strict=True):
            running += count
            buckets.append(("+Inf" if bound == float("inf") else repr(bound), running))
        return buckets


class FanOutStats:
    """What the shared subscriptions of one process have done."""

    __slots__ = ("deliveries", "events", "seconds")

    def __init__(self) -> None:
        # Events a shared run handed to its members (one per run and event).
        self.events = 0
        # Frames written or queued for members.
        self.deliveries = 0
        # How long handing one event to all members of a run took.
        self.seconds = Histogram(FAN_OUT_BUCKETS)
