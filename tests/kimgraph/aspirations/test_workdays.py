"""Working-day deadlines: weekends, Indonesian holidays and cuti bersama, WIB."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from kimgraph.aspirations import workdays
from kimgraph.aspirations.workdays import (
    ZONE,
    add_working_days,
    holiday_name,
    holidays_in,
    is_working_day,
    local_date,
    working_days_between,
)


def end_of(year: int, month: int, day: int) -> datetime:
    """The last microsecond of a day in WIB."""
    return datetime(year, month, day, 23, 59, 59, 999999, tzinfo=ZONE)


def test_the_deadlines_of_the_design() -> None:
    assert (
        workdays.VERIFY_DAYS,
        workdays.RESPOND_DAYS,
        workdays.AUTO_RESOLVE_DAYS,
        workdays.NEEDS_INFO_DAYS,
    ) == (3, 5, 10, 10)


def test_2026_has_nyepi_idul_fitri_and_christmas_with_cuti_bersama() -> None:
    # when
    calendar = holidays_in(2026)
    # then
    assert {day: name for day, name in calendar.items() if day.month in (3, 12)} == {
        date(2026, 3, 18): "Cuti Bersama Hari Suci Nyepi",
        date(2026, 3, 19): "Hari Suci Nyepi",
        date(2026, 3, 20): "Cuti Bersama Hari Raya Idul Fitri",
        date(2026, 3, 21): "Hari Raya Idul Fitri",
        date(2026, 3, 22): "Hari kedua dari Hari Raya Idul Fitri",
        date(2026, 3, 23): "Cuti Bersama Hari Raya Idul Fitri",
        date(2026, 3, 24): "Cuti Bersama Hari Raya Idul Fitri",
        date(2026, 12, 24): "Cuti Bersama Hari Raya Natal",
        date(2026, 12, 25): "Hari Raya Natal",
    }
    assert len(calendar) == 25


def test_holiday_names_are_in_bahasa_indonesia() -> None:
    assert holiday_name(date(2026, 8, 17)) == "Hari Kemerdekaan Republik Indonesia"
    assert holiday_name(date(2027, 1, 1)) == "Tahun Baru Masehi"
    assert holiday_name(date(2026, 8, 18)) is None


def test_holiday_calendars_are_computed_once_per_year_and_read_only() -> None:
    # given
    holidays_in.cache_clear()
    # when
    first = holidays_in(2026)
    again = holidays_in(2026)
    # then
    assert again is first
    assert holidays_in.cache_info().misses == 1
    with pytest.raises(TypeError):
        first[date(2026, 8, 18)] = "Hari Libur Tambahan"  # type: ignore[index]


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 3, 17), True),  # Tuesday
        (date(2026, 3, 18), False),  # cuti bersama Nyepi
        (date(2026, 3, 19), False),  # Nyepi
        (date(2026, 3, 20), False),  # cuti bersama Idul Fitri
        (date(2026, 3, 21), False),  # Idul Fitri, a Saturday
        (date(2026, 3, 24), False),  # cuti bersama Idul Fitri
        (date(2026, 3, 25), True),  # Wednesday
        (date(2026, 11, 28), False),  # Saturday
        (date(2026, 11, 29), False),  # Sunday
        (date(2026, 12, 24), False),  # cuti bersama Natal
        (date(2026, 12, 25), False),  # Natal
        (date(2026, 12, 31), True),  # Thursday
        (date(2027, 1, 5), False),  # Isra Mikraj
    ],
)
def test_weekends_holidays_and_cuti_bersama_are_not_working_days(
    day: date, working: bool
) -> None:
    assert is_working_day(day) is working


def test_a_deadline_is_the_last_microsecond_of_its_day_in_wib() -> None:
    # given: Friday 27 November 2026, 10:00 WIB
    start = datetime(2026, 11, 27, 10, 0, tzinfo=ZONE)
    # when
    due = add_working_days(start, 3)
    # then: Monday, Tuesday, Wednesday
    assert due == datetime(2026, 12, 2, 16, 59, 59, 999999, tzinfo=UTC)
    assert due.tzinfo is ZONE
    assert due.utcoffset() == timedelta(hours=7)


def test_a_deadline_from_a_saturday_counts_from_monday() -> None:
    # given: Saturday 28 November 2026, 08:00 WIB
    start = datetime(2026, 11, 28, 1, 0, tzinfo=UTC)
    # when / then
    assert add_working_days(start, 1) == end_of(2026, 11, 30)
    assert add_working_days(start, 3) == end_of(2026, 12, 2)


def test_deadlines_skip_nyepi_and_idul_fitri_with_their_cuti_bersama() -> None:
    # given: Tuesday 17 March 2026; 18-24 March are holidays, cuti bersama or weekend
    start = datetime(2026, 3, 17, 9, 0, tzinfo=ZONE)
    # when / then
    assert add_working_days(start, 1) == end_of(2026, 3, 25)
    assert add_working_days(start, 3) == end_of(2026, 3, 27)
    assert add_working_days(start, 5) == end_of(2026, 3, 31)
    # Good Friday, 3 April, is skipped too.
    assert add_working_days(start, 10) == end_of(2026, 4, 8)


def test_deadlines_skip_christmas_new_year_and_isra_mikraj_across_the_year() -> None:
    # given: Wednesday 23 December 2026; 24 (cuti bersama) and 25 December are off
    start = datetime(2026, 12, 23, 15, 0, tzinfo=ZONE)
    # when / then
    assert add_working_days(start, 3) == end_of(2026, 12, 30)
    # 1 January and 5 January 2027 (Isra Mikraj) are skipped.
    assert add_working_days(start, 10) == end_of(2027, 1, 12)


def test_the_day_of_an_instant_is_its_day_in_pontianak_not_in_utc() -> None:
    # given
    thursday_late_utc = datetime(2026, 3, 5, 18, 0, tzinfo=UTC)  # Fri 01:00 WIB
    thursday_last_wib = datetime(2026, 3, 5, 16, 59, 59, tzinfo=UTC)  # Thu 23:59:59
    friday_late_utc = datetime(2026, 3, 6, 18, 0, tzinfo=UTC)  # Sat 01:00 WIB
    # when / then
    assert local_date(thursday_late_utc) == date(2026, 3, 6)
    assert add_working_days(thursday_late_utc, 3) == end_of(2026, 3, 11)
    assert local_date(thursday_last_wib) == date(2026, 3, 5)
    assert add_working_days(thursday_last_wib, 3) == end_of(2026, 3, 10)
    assert local_date(friday_late_utc) == date(2026, 3, 7)
    assert is_working_day(local_date(friday_late_utc)) is False


@pytest.mark.parametrize(
    ("a", "b", "count"),
    [
        (date(2026, 3, 17), date(2026, 3, 17), 0),
        (date(2026, 3, 17), date(2026, 3, 24), 0),
        (date(2026, 3, 17), date(2026, 3, 27), 3),
        (date(2026, 3, 27), date(2026, 3, 17), -3),
        (date(2026, 11, 27), date(2026, 11, 30), 1),
        (date(2026, 12, 23), date(2027, 1, 12), 10),
        (
            datetime(2026, 3, 5, 18, 0, tzinfo=UTC),  # Friday 6 March in WIB
            datetime(2026, 3, 11, 12, 0, tzinfo=ZONE),
            3,
        ),
    ],
)
def test_working_days_between_counts_after_the_first_day_through_the_last(
    a: date, b: date, count: int
) -> None:
    assert working_days_between(a, b) == count


@pytest.mark.parametrize(
    "start",
    [
        datetime(2026, 3, 17, 9, 0, tzinfo=ZONE),
        datetime(2026, 12, 23, 15, 0, tzinfo=ZONE),
        datetime(2026, 3, 5, 18, 0, tzinfo=UTC),
    ],
)
@pytest.mark.parametrize("n", [1, 3, 5, 10])
def test_working_days_between_undoes_add_working_days(start: datetime, n: int) -> None:
    assert working_days_between(start, add_working_days(start, n)) == n


def test_naive_instants_and_empty_deadlines_are_refused() -> None:
    # given
    naive = datetime(2026, 3, 17, 9, 0)
    aware = naive.replace(tzinfo=ZONE)
    # when / then
    with pytest.raises(ValueError, match=r"^2026-03-17T09:00:00 has no timezone$"):
        add_working_days(naive, 3)
    with pytest.raises(ValueError, match=r"^2026-03-17T09:00:00 has no timezone$"):
        working_days_between(naive, aware)
    with pytest.raises(
        ValueError, match=r"^a deadline is at least 1 working day away, not 0$"
    ):
        add_working_days(aware, 0)
