"""Working days between pairs of dates, summed up as a median and a 90th percentile.

The database groups the (start, end) date pairs and counts each; only the
distinct pairs reach Python, where holidays are known (kimgraph.aspirations.
workdays). A year's recap has at most a few thousand distinct pairs, whatever
the number of aspirations.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from kimgraph.aspirations.workdays import is_working_day


@dataclass(frozen=True, slots=True)
class Durations:
    """How many aspirations reached a step, and in how many working days."""

    count: int
    # Null without any: the mean of the two middle values for an even count.
    median: float | None
    # The nearest-rank 90th percentile: the smallest d with 90 % taking <= d.
    p90: int | None


def durations(pairs: Iterable[tuple[date, date, int]]) -> Durations:
    """The summary of (start, end, how many) pairs: working days from start to end."""
    found = list(pairs)
    histogram: Counter[int] = Counter()
    if found:
        counted = _working_days_up_to(
            min(min(s, e) for s, e, _ in found), max(max(s, e) for s, e, _ in found)
        )
        for start, end, count in found:
            histogram[counted[end] - counted[start]] += count
    return summarize(histogram)


def _working_days_up_to(first: date, last: date) -> dict[date, int]:
    """Working days after first up to each day through last: one pass, not one per pair.

    The difference of two entries is working_days_between of their days.
    """
    counted = {first: 0}
    day, total = first, 0
    while day < last:
        day += timedelta(days=1)
        total += is_working_day(day)
        counted[day] = total
    return counted


def summarize(histogram: Counter[int]) -> Durations:
    """Median and nearest-rank 90th percentile of a value -> count histogram."""
    total = sum(histogram.values())
    if total == 0:
        return Durations(0, None, None)
    values = sorted(histogram.items())

    def ranked(rank: int) -> int:
        """The value at 1-based rank in ascending order."""
        seen = 0
        for value, count in values:
            seen += count
            if seen >= rank:
                return value
        raise AssertionError("rank past the total")

    if total % 2:
        median = float(ranked(total // 2 + 1))
    else:
        median = (ranked(total // 2) + ranked(total // 2 + 1)) / 2
    return Durations(total, median, ranked(math.ceil(0.9 * total)))
