"""The check: what each client received against the event log, and the figures.

Independent of the server's code on purpose: the visibility rule is restated here
(an announcement event shows at a desa when one of its regions is the desa or an
ancestor of it; an aspiration event shows to a region it lies within), and the
result is cross-checked against a fresh replay from a healthy server.
"""

from __future__ import annotations

import itertools
import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from bench.faults.clients import Mutation, Subscriber, event_id


@dataclass(frozen=True)
class LogEvent:
    id: int
    stream: str
    kind: str
    entity: int
    regions: tuple[str, ...]
    occurred: float  # epoch seconds


def within(code: str, ancestor: str) -> bool:
    return code == ancestor or code.startswith(ancestor + ".")


def visible(event: LogEvent, stream: str, region: str) -> bool:
    if event.stream != stream:
        return False
    if stream == "announcement":
        return any(within(region, target) for target in event.regions)
    return any(within(target, region) for target in event.regions)


@dataclass
class FaultRecord:
    kind: str
    started: float
    ended: float
    detail: str = ""
    dead: list[tuple[float, float]] = field(default_factory=list)  # no process up
    # A process's database connections were cut: 503 (docs/http.md, "When the
    # database does not answer") is the truthful answer then, and is retried.
    unavailable: list[tuple[float, float]] = field(default_factory=list)
    recover_s: float | None = None


@dataclass
class ClientResult:
    name: str
    expected: int
    received: int
    missing: list[int]
    doubled: list[int]
    out_of_order: int
    unexpected: list[int]
    exact: bool


@dataclass
class Verdict:
    clients: list[ClientResult]
    lost: int
    doubled: int
    out_of_order: int
    unexpected: int
    acked_missing: list[str]
    timer_problems: list[str]
    replay_mismatches: list[str]
    server_errors: list[str]
    client_errors: list[str]
    fault_problems: list[str]

    @property
    def ok(self) -> bool:
        return not (
            self.lost
            or self.doubled
            or self.out_of_order
            or self.unexpected
            or self.acked_missing
            or self.timer_problems
            or self.replay_mismatches
            or self.server_errors
            or self.client_errors
            or self.fault_problems
        )

    def problems(self) -> list[str]:
        lines = []
        for result in self.clients:
            if not result.exact:
                lines.append(
                    f"{result.name}: expected {result.expected}, received "
                    f"{result.received}; missing {result.missing[:10]}, doubled "
                    f"{result.doubled[:10]}, out of order {result.out_of_order}, "
                    f"not visible to it {result.unexpected[:10]}"
                )
        return [
            *lines[:30],
            *(f"acknowledged but not in the log: {m}" for m in self.acked_missing[:20]),
            *(f"timer: {t}" for t in self.timer_problems[:20]),
            *(f"replay: {r}" for r in self.replay_mismatches[:20]),
            *(f"5xx: {s}" for s in self.server_errors[:20]),
            *(f"client error: {c}" for c in self.client_errors[:20]),
            *(f"fault: {h}" for h in self.fault_problems),
        ]


def expected_for(
    log: list[LogEvent], stream: str, region: str, after: int
) -> list[tuple[int, str, int]]:
    return [
        (e.id, e.kind, e.entity)
        for e in log
        if e.id > after and visible(e, stream, region)
    ]


def compare(
    name: str, expected: list[tuple[int, str, int]], got: list[tuple[int, str, int]]
) -> ClientResult:
    ids = [g[0] for g in got]
    counts = Counter(ids)
    expected_ids = {e[0] for e in expected}
    out_of_order = sum(1 for a, b in itertools.pairwise(ids) if b < a)
    return ClientResult(
        name,
        len(expected),
        len(got),
        sorted(expected_ids - counts.keys()),
        sorted(i for i, n in counts.items() if n > 1),
        out_of_order,
        sorted(counts.keys() - expected_ids),
        got == expected,
    )


def check_clients(
    log: list[LogEvent], subscribers: list[tuple[Subscriber, str, str]]
) -> list[ClientResult]:
    """subscribers: (client, stream, region)."""
    results = []
    for client, stream, region in subscribers:
        expected = expected_for(log, stream, region, event_id(client.first_cursor))
        got = [(r.id, r.kind, r.entity) for r in client.received]
        results.append(compare(client.name, expected, got))
    return results


EVENT_OF = {
    "publish": ("announcement", "PUBLISHED"),
    "update": ("announcement", "UPDATED"),
    "withdraw": ("announcement", "WITHDRAWN"),
    "submit": ("aspiration", "SUBMITTED"),
    "transition": ("aspiration", "TRANSITIONED"),
}


def check_acknowledged(log: list[LogEvent], mutations: list[Mutation]) -> list[str]:
    """Every acknowledged mutation has its event; never more than were sent."""
    logged = Counter((e.stream, e.kind, e.entity) for e in log)
    acked: Counter[tuple[str, str, int]] = Counter()
    sent: Counter[tuple[str, str, int]] = Counter()
    for m in mutations:
        if m.entity is None:
            continue
        stream, kind = EVENT_OF[m.operation]
        key = (stream, kind, m.entity)
        if m.outcome in ("ack", "applied"):
            acked[key] += 1
        if m.outcome != "rejected":
            sent[key] += 1
    missing = []
    for key, count in acked.items():
        if logged[key] < count:
            missing.append(f"{key}: acknowledged {count}, logged {logged[key]}")
    for key, count in logged.items():
        if key[1] in ("UPDATED", "WITHDRAWN", "TRANSITIONED") and count > sent[key]:
            missing.append(f"{key}: logged {count}, sent only {sent[key]}")
    return missing


@dataclass
class AnnouncementRow:
    id: int
    valid_from: datetime
    valid_until: datetime | None
    withdrawn_at: datetime | None


def check_timers(
    log: list[LogEvent], rows: list[AnnouncementRow], now: datetime, unfired_due: int
) -> list[str]:
    """Each publication and expiry that came due fired exactly once."""
    logged = Counter((e.kind, e.entity) for e in log if e.stream == "announcement")
    problems = [f"{unfired_due} due timer rows never fired"] if unfired_due else []
    for row in rows:
        published = logged[("PUBLISHED", row.id)]
        want = 1 if row.valid_from <= now else 0
        if row.withdrawn_at is not None and row.withdrawn_at < row.valid_from:
            want = published  # withdrawn while scheduled: not this check's concern
        if published != want:
            problems.append(f"announcement {row.id}: {published} PUBLISHED events")
        expired = logged[("EXPIRED", row.id)]
        due = row.valid_until is not None and row.valid_until <= now
        if due and row.withdrawn_at is not None and row.valid_until is not None:
            due = row.withdrawn_at > row.valid_until
        if expired != (1 if due else 0):
            problems.append(
                f"announcement {row.id}: {expired} EXPIRED events "
                f"(valid until {row.valid_until}, withdrawn {row.withdrawn_at})"
            )
    return problems


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def delays(
    log: list[LogEvent], subscribers: list[Subscriber]
) -> dict[int, list[float]]:
    """Per event id: receipt time minus the time the log says it occurred."""
    occurred = {e.id: e.occurred for e in log}
    per_event: dict[int, list[float]] = {}
    for client in subscribers:
        for r in client.received:
            if r.id in occurred:
                per_event.setdefault(r.id, []).append(r.at - occurred[r.id])
    return per_event


def recovery(
    log: list[LogEvent],
    per_event: dict[int, list[float]],
    fault: FaultRecord,
    threshold_s: float,
    horizon_s: float = 60.0,
) -> float | None:
    """Seconds from the fault's start until every event reaches all within threshold.

    The first event after the start from which on (to start + horizon) each
    event's slowest delivery took at most threshold_s.
    """
    window = [
        e
        for e in log
        if fault.started <= e.occurred <= fault.started + horizon_s
        and e.id in per_event
    ]
    recovered_at = None
    for e in window:
        if max(per_event[e.id]) <= threshold_s:
            if recovered_at is None:
                recovered_at = e.occurred
        else:
            recovered_at = None
    return None if recovered_at is None else max(0.0, recovered_at - fault.started)


def summary(values: list[float]) -> str:
    if not values:
        return "no deliveries"
    return (
        f"p50 {percentile(values, 0.5):.2f} s, p99 {percentile(values, 0.99):.2f} s, "
        f"max {max(values):.2f} s"
    )


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")
