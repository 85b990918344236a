"""/metrics under `serve --workers N`: prometheus_client's multiprocess mode.

A scrape reaches one worker, chosen by the kernel. So every worker keeps its
numbers in files of one folder (PROMETHEUS_MULTIPROC_DIR, set by `serve`
before the workers start, since prometheus_client reads it on import), and
the worker that answers adds them all up. The request metrics
(kimgraph.request_log) are written there as they are counted; the live
numbers, plain integers the fan-out increments for nothing, are copied there
by Mirror (docs/operations.md, "Logs and metrics").

How each kind adds up: counters and histograms over every worker that ever
ran in this `serve` (a restarted worker's count is kept); gauges over the
living workers only, summed, except a few that sum to nonsense (MODES).
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from prometheus_client import Counter, Gauge, Histogram
from prometheus_client.core import Metric
from prometheus_client.multiprocess import mark_process_dead

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"
# Gauges that are not summed over the workers.
MODES = {
    "kimgraph_event_log_position": "livemax",
    "kimgraph_event_bus_up": "livemin",  # 0 if any worker lost its bus
    "process_start_time_seconds": "livemin",
    "process_max_fds": "livemin",
    "python_info": "livemax",
}
_LIVE_FILE = re.compile(r"gauge_live\w+_(\d+)\.db")


@contextmanager
def across_workers(workers: int) -> Iterator[None]:
    """With several workers, multiprocess mode in a folder made for this run.

    Made empty (a previous run's counts would be added in) and removed
    afterwards. An operator's own PROMETHEUS_MULTIPROC_DIR is used as it is.
    """
    if workers < 2 or os.environ.get(MULTIPROCESS_DIR):
        yield
        return
    folder = tempfile.mkdtemp(prefix="kimgraph-metrics-")
    os.environ[MULTIPROCESS_DIR] = folder
    try:
        yield
    finally:
        del os.environ[MULTIPROCESS_DIR]
        shutil.rmtree(folder, ignore_errors=True)


def bury(pid: int) -> None:
    """Drop a worker's gauges (its counts stay): it stopped, or died."""
    mark_process_dead(pid)  # type: ignore[no-untyped-call]


def bury_the_dead() -> None:
    """Drop the gauges of workers that died without burying themselves.

    uvicorn starts a new worker in place of one that died; the dead one's
    connections would otherwise be counted for ever.
    """
    folder = os.environ.get(MULTIPROCESS_DIR, "")
    pids = {
        int(match.group(1))
        for path in glob.glob(os.path.join(folder, "gauge_live*.db"))
        if (match := _LIVE_FILE.fullmatch(os.path.basename(path)))
    }
    for pid in pids - {os.getpid()}:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            bury(pid)
        except PermissionError:
            pass  # alive, someone else's


class Mirror:
    """Copies this worker's own numbers into prometheus_client's files.

    Gauges are set; counters and histogram buckets grow by what they grew
    since the last copy. The families (and their label names) are those of
    kimgraph.live.metrics.snapshot, made on first sight.
    """

    def __init__(self) -> None:
        self._metrics: dict[str, Any] = {}
        self._copied: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}

    def copy(self, families: Iterable[Metric]) -> None:
        for family in families:
            if family.type == "gauge":
                self._gauge(family)
            elif family.type == "counter":
                self._counter(family)
            elif family.type == "histogram":
                self._histogram(family)
        bury_the_dead()

    def _metric(self, family: Any, kind: type, labels: list[str], **more: Any) -> Any:
        metric = self._metrics.get(family.name)
        if metric is None:
            metric = kind(
                family.name, family.documentation, labels, registry=None, **more
            )
            self._metrics[family.name] = metric
        return metric

    def _gauge(self, family: Any) -> None:
        for sample in family.samples:
            mode = MODES.get(family.name, "livesum")
            gauge = self._metric(
                family, Gauge, sorted(sample.labels), multiprocess_mode=mode
            )
            child = gauge.labels(**sample.labels) if sample.labels else gauge
            child.set(sample.value)

    def _counter(self, family: Any) -> None:
        for sample in family.samples:
            if not sample.name.endswith("_total"):
                continue  # _created
            counter = self._metric(family, Counter, sorted(sample.labels))
            grown = self._grown(sample.name, sample.labels, sample.value)
            if grown > 0:
                child = counter.labels(**sample.labels) if sample.labels else counter
                child.inc(grown)

    def _histogram(self, family: Any) -> None:
        buckets = [s for s in family.samples if s.name.endswith("_bucket")]
        bounds = [float(s.labels["le"]) for s in buckets]
        histogram = self._metric(family, Histogram, [], buckets=bounds)
        below = 0.0
        for index, sample in enumerate(buckets):
            # The exposition is cumulative; each file bucket counts its own.
            own = sample.value - below
            below = sample.value
            grown = self._grown(sample.name, sample.labels, own)
            if grown > 0:
                # No public call adds n observations to one bucket.
                histogram._buckets[index].inc(grown)
        for sample in family.samples:
            if sample.name.endswith("_sum"):
                grown = self._grown(sample.name, {}, sample.value)
                if grown > 0:
                    histogram._sum.inc(grown)

    def _grown(self, name: str, labels: dict[str, str], value: float) -> float:
        key = (name, tuple(sorted(labels.items())))
        before = self._copied.get(key, 0.0)
        self._copied[key] = value
        return value - before
