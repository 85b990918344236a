"""Time as a dependency, so rules about time can be tested without waiting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


def to_utc(value: datetime) -> datetime:
    """The same instant in UTC; ValueError, saying why, if there is none."""
    if value.utcoffset() is None:
        raise ValueError("needs a UTC offset, e.g. 2030-01-01T08:00:00+07:00 (WIB)")
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError(
            "lies outside the years 1-9999 once converted to UTC"
        ) from None


class Clock(Protocol):
    """Where the current time comes from."""

    def now(self) -> datetime:
        """The current time, timezone-aware."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that moves only when told to; for tests and benchmarks."""

    def __init__(self, start: datetime) -> None:
        self._now = start

    def now(self) -> datetime:
        return self._now

    def advance(self, by: timedelta) -> None:
        """Move time forward."""
        self._now += by
