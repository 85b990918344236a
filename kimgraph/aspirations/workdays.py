"""Working-day deadlines: Indonesia's holidays, counted in Asia/Pontianak (pure)."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from types import MappingProxyType
from zoneinfo import ZoneInfo

import holidays

ZONE = ZoneInfo("Asia/Pontianak")
"""Where the days are counted: WIB (UTC+7), the desks' own calendar."""

VERIFY_DAYS = 3
"""A submitted aspiration is verified within 3 working days (LAPOR!'s rule)."""
DISPOSE_DAYS = 2
"""A verified aspiration is disposed to its unit within 2 working days."""
# Verification (3) and disposition (2) together: a unit has the aspiration within
# one working week of submission, and the verifier has already read it.
RESPOND_DAYS = 5
"""A disposed aspiration is answered by its unit within 5 working days."""
RESPOND_AGAIN_DAYS = 10
"""A disputed or reopened aspiration is answered again within 10 working days."""
# Twice the first answer's time: the first answer did not hold, and the second
# usually needs a visit or another unit's help; the same 10 days the reporter has.
AUTO_RESOLVE_DAYS = 10
"""A response the reporter does not dispute within 10 working days resolves it."""
NEEDS_INFO_DAYS = 10
"""A reporter asked for information has 10 working days before it is archived."""
# The same patience as AUTO_RESOLVE_DAYS: both wait on a reporter, who often can
# answer only through the KIM that collected the aspiration.


@functools.cache
def holidays_in(year: int) -> Mapping[date, str]:
    """National holidays and cuti bersama of a year, named in Bahasa Indonesia."""
    calendar = holidays.country_holidays(
        "ID", categories=("public", "government"), language="id", years=year
    )
    # A read-only copy: the package's dict grows lazily when asked about other years.
    return MappingProxyType(dict(calendar))


def holiday_name(day: date) -> str | None:
    """The holiday or cuti bersama on day, or None on an ordinary day."""
    return holidays_in(day.year).get(day)


def is_working_day(day: date) -> bool:
    """True unless day is a Saturday, Sunday, national holiday or cuti bersama."""
    return day.weekday() < 5 and day not in holidays_in(day.year)


def local_date(instant: datetime) -> date:
    """The calendar date in Asia/Pontianak at a timezone-aware instant."""
    if instant.utcoffset() is None:
        raise ValueError(f"{instant.isoformat()} has no timezone")
    return instant.astimezone(ZONE).date()


def end_of_day(day: date) -> datetime:
    """The last microsecond of day in Asia/Pontianak."""
    return datetime.combine(day, time.max, tzinfo=ZONE)


def next_working_day(day: date) -> date:
    """The first working day after day."""
    day += timedelta(days=1)
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def add_working_days(start: datetime, n: int) -> datetime:
    """The deadline n working days after start: the end of the n-th working day.

    Counting begins the day after start's date in Asia/Pontianak, so the day of
    submission never counts, whatever its hour; "due in 3 working days" from any
    moment of a Friday ends on Wednesday at 23:59:59.999999 WIB (if none of those
    days is a holiday). The deadline has passed once the time is after it.
    """
    if n < 1:
        raise ValueError(f"a deadline is at least 1 working day away, not {n}")
    day = local_date(start)
    for _ in range(n):
        day = next_working_day(day)
    return end_of_day(day)


def working_days_between(a: date, b: date) -> int:
    """Working days after a's date up to and including b's; negative if b is earlier.

    Datetimes (timezone-aware) count by their date in Asia/Pontianak, so
    `working_days_between(start, add_working_days(start, n)) == n`.
    """
    first, last = _day(a), _day(b)
    if last < first:
        return -working_days_between(last, first)
    count = 0
    day = first
    while (day := day + timedelta(days=1)) <= last:
        count += is_working_day(day)
    return count


def _day(value: date) -> date:
    # datetime is a subclass of date: an instant's day is its day in WIB, not in UTC.
    if isinstance(value, datetime):
        return local_date(value)
    return value
