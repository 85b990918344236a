"""aspirationStats on a hand-made month, both backends: every figure known."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import Enum

import pytest

from kimgraph import announcements, aspirations, models
from kimgraph.accounts.principals import Principal, Role
from kimgraph.aspirations.workdays import working_days_between
from kimgraph.clock import FixedClock
from kimgraph.errors import ForbiddenError, InvalidArgumentError, UnauthenticatedError
from kimgraph.models import (
    AnnouncementCategory,
    AnnouncementPriority,
    AspirationCategory,
    AspirationStatus,
)
from kimgraph.reports import Durations, Period, aspiration_stats, staff_region
from kimgraph.reports.durations import durations, summarize
from tests.people import HOME_DESA, OTHER_DESA, ROOT, nobody_listens

WIB = timedelta(hours=7)
UNIT = Principal(role=Role.OFFICER, region_code="61.04", display_name="Dinas PU")
MARCH = Period(date(2026, 3, 1), date(2026, 3, 31))
# When the report is asked: after every step below, before any auto-resolve.
NOW = datetime(2026, 4, 8, 3, 0, tzinfo=UTC)


def wib(day: str, hour: int = 9, minute: int = 0) -> datetime:
    """An instant given as a WIB wall-clock time."""
    local = datetime.fromisoformat(day).replace(hour=hour, minute=minute)
    return local.replace(tzinfo=UTC) - WIB


@dataclass
class Desk:
    """Submits and moves aspirations at given times."""

    clock: FixedClock

    async def submit(
        self, at: datetime, region: str, category: AspirationCategory
    ) -> models.Aspiration:
        self.clock._now = at
        outcome = await aspirations.submit(
            self.clock,
            nobody_listens,
            ROOT,
            aspirations.Submission(
                region=region,
                title="Laporan warga",
                description="Uraian laporan warga.",
                category=category,
            ),
        )
        return outcome.aspiration

    async def step(
        self,
        row: models.Aspiration,
        at: datetime,
        target: AspirationStatus,
        who: Principal = ROOT,
        *,
        note: str | None = None,
        public_note: str | None = None,
        assigned_unit: str | None = None,
    ) -> None:
        self.clock._now = at
        await row.refresh_from_db()
        await aspirations.transition(
            self.clock,
            nobody_listens,
            who,
            row.id,
            aspirations.Step(
                target=target,
                expected_version=row.version,
                note=note,
                public_note=public_note,
                assigned_unit=assigned_unit,
            ),
        )

    async def announce(
        self,
        at: datetime,
        target: str,
        category: AnnouncementCategory,
        priority: AnnouncementPriority = AnnouncementPriority.NORMAL,
    ) -> None:
        self.clock._now = at
        await announcements.publish(
            self.clock,
            nobody_listens,
            ROOT,
            announcements.Draft(
                title="Pengumuman",
                body="Isi pengumuman.",
                category=category,
                targets=[target],
                priority=priority,
                valid_until=at + timedelta(days=2),
            ),
        )


async def respond_in_full(
    desk: Desk, row: models.Aspiration, verified: str, disposed: str, responded: str
) -> None:
    """Verified, disposed and responded to on these WIB days."""
    await desk.step(row, wib(verified), AspirationStatus.VERIFIED)
    await desk.step(
        row, wib(disposed), AspirationStatus.DISPOSED, assigned_unit="Dinas PU"
    )
    await desk.step(
        row,
        wib(responded),
        AspirationStatus.RESPONDED,
        UNIT,
        public_note="Sudah ditangani.",
    )


async def make_march(clock: FixedClock) -> None:
    """March 2026 in Ketapang; docs/reports.md's definitions give every figure.

    Nyepi, Idul Fitri and their cuti bersama close the offices 18-24 March.
    """
    desk = Desk(clock)
    infra, health = AspirationCategory.INFRASTRUCTURE, AspirationCategory.HEALTH
    # Verified in 1 working day; disposed 25 March: 2 (17th, 25th: the holidays
    # and the weekend between do not count); responded the 26th: 3.
    first = await desk.submit(wib("2026-03-16"), HOME_DESA, infra)
    await respond_in_full(desk, first, "2026-03-17", "2026-03-25", "2026-03-26")
    # Submitted on a Friday afternoon: verified Monday (1), disposed Wednesday
    # (3), responded Friday (5), then resolved by a verifier.
    second = await desk.submit(wib("2026-03-06", 16), HOME_DESA, health)
    await respond_in_full(desk, second, "2026-03-09", "2026-03-11", "2026-03-13")
    await desk.step(second, wib("2026-03-16"), AspirationStatus.RESOLVED)
    # First decided on after 2 working days (NEEDS_INFO), verified later.
    third = await desk.submit(wib("2026-03-02"), HOME_DESA, infra)
    await desk.step(
        third,
        wib("2026-03-04"),
        AspirationStatus.NEEDS_INFO,
        note="Lokasi?",
        public_note="Mohon sebutkan lokasi tepatnya.",
    )
    await desk.step(third, wib("2026-03-05"), AspirationStatus.SUBMITTED, note="RT 03.")
    await desk.step(third, wib("2026-03-06"), AspirationStatus.VERIFIED)
    # ... and never disposed: overdue since 10 March (disposition, 2 working days).
    # Never handled: overdue since 5 March.
    await desk.submit(wib("2026-03-02"), OTHER_DESA, AspirationCategory.EDUCATION)
    # Withdrawn: the reporter's step, not a verification.
    fifth = await desk.submit(
        wib("2026-03-10"), HOME_DESA, AspirationCategory.GOVERNMENT
    )
    await desk.step(fifth, wib("2026-03-11"), AspirationStatus.WITHDRAWN)
    # 1 March 00:30 WIB is still 28 February in UTC: in March, and overdue.
    await desk.submit(wib("2026-03-01", 0, 30), HOME_DESA, AspirationCategory.SOCIAL)
    # Outside the period: 31 March 23:59 is not, 1 April 00:10 WIB is.
    late = await desk.submit(wib("2026-04-01", 0, 10), HOME_DESA, infra)
    await desk.step(late, wib("2026-04-01", 10), AspirationStatus.VERIFIED)
    await desk.announce(wib("2026-03-05"), HOME_DESA, AnnouncementCategory.HEALTH)
    await desk.announce(
        wib("2026-03-10"),
        "61.04",
        AnnouncementCategory.DISASTER,
        AnnouncementPriority.EMERGENCY,
    )
    await desk.announce(wib("2026-03-12"), "61", AnnouncementCategory.GENERAL)
    await desk.announce(wib("2026-04-02"), HOME_DESA, AnnouncementCategory.EVENT)


def zero_but(enum: type[Enum], **counts: int) -> dict[object, int]:
    """Every member at 0 except those named."""
    return {member: counts.get(member.name, 0) for member in enum}


@pytest.mark.asyncio
async def test_march_in_ketapang_gives_the_known_figures(ketapang: str) -> None:
    # given
    await make_march(FixedClock(NOW))
    # when
    stats = await aspiration_stats("61.04", MARCH, NOW)
    # then
    assert stats.total == 6
    assert stats.by_status == zero_but(
        AspirationStatus,
        SUBMITTED=2,
        VERIFIED=1,
        RESPONDED=1,
        RESOLVED=1,
        WITHDRAWN=1,
    )
    assert stats.by_category == zero_but(
        AspirationCategory,
        INFRASTRUCTURE=2,
        HEALTH=1,
        EDUCATION=1,
        GOVERNMENT=1,
        SOCIAL=1,
    )
    children = {c.code: c.count for c in stats.by_child}
    assert children["61.04.16"] == 5
    assert children["61.04.18"] == 1
    assert sum(children.values()) == 6
    assert len(children) == await models.Region.filter(parent_id="61.04").count()
    assert stats.steps == {
        "verify": Durations(count=3, median=1.0, p90=2),
        "dispose": Durations(count=2, median=2.5, p90=3),
        "respond": Durations(count=2, median=4.0, p90=5),
    }
    assert stats.overdue == 3
    assert stats.announcements.total == 2
    assert stats.announcements.by_category == zero_but(
        AnnouncementCategory, HEALTH=1, DISASTER=1
    )
    assert stats.announcements.by_priority == zero_but(
        AnnouncementPriority, NORMAL=1, EMERGENCY=1
    )


@pytest.mark.asyncio
async def test_a_kecamatan_counts_its_own_desa_only(ketapang: str) -> None:
    # given
    await make_march(FixedClock(NOW))
    # when
    stats = await aspiration_stats("61.04.16", MARCH, NOW)
    # then: the aspiration of Benua Kayong and the kabupaten's announcement are out
    assert stats.total == 5
    assert {c.code: c.count for c in stats.by_child if c.count} == {HOME_DESA: 5}
    assert all(c.code.startswith("61.04.16.") for c in stats.by_child)
    assert stats.overdue == 2
    assert stats.announcements.total == 1


@pytest.mark.asyncio
async def test_an_empty_period_has_no_durations(ketapang: str) -> None:
    # given
    await make_march(FixedClock(NOW))
    # when
    stats = await aspiration_stats(
        "61.04", Period(date(2025, 1, 1), date(2025, 12, 31)), NOW
    )
    # then
    assert stats.total == 0
    assert set(stats.steps.values()) == {Durations(0, None, None)}
    assert stats.announcements.total == 0


def test_median_and_90th_percentile_follow_their_definitions() -> None:
    # given: 1 x10, 2 x5, 9 x5 (20 values: the 10th is 1, the 11th 2, the 18th 9)
    histogram = {1: 10, 2: 5, 9: 5}
    # when
    found = summarize(Counter(histogram))
    # then
    assert found == Durations(count=20, median=1.5, p90=9)


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        (
            date(2026, 3, 2),
            date(2026, 3, 1),
            "the period ends (2026-03-01) before it starts (2026-03-02)",
        ),
        (
            date(2026, 1, 1),
            date(2027, 1, 2),
            "a report covers at most 366 days; 2026-01-01 to 2027-01-02 is longer",
        ),
    ],
)
def test_a_period_backwards_or_over_a_year_is_refused(
    start: date, end: date, message: str
) -> None:
    with pytest.raises(InvalidArgumentError) as refused:
        Period(start, end)
    assert str(refused.value) == message


@pytest.mark.parametrize(
    ("principal", "error", "message"),
    [
        (Principal(), UnauthenticatedError, "sign in to read reports"),
        (
            Principal(role=Role.KIM, region_code=HOME_DESA),
            ForbiddenError,
            "only an ADMIN or an OFFICER may read reports",
        ),
        (
            Principal(role=Role.PARTNER, region_code="61.04"),
            ForbiddenError,
            "only an ADMIN or an OFFICER may read reports",
        ),
        (
            Principal(role=Role.OFFICER, region_code="61.04.18"),
            ForbiddenError,
            "region 61.04.16 lies outside your region 61.04.18",
        ),
    ],
)
def test_only_staff_over_the_region_may_read_it(
    principal: Principal, error: type[Exception], message: str
) -> None:
    with pytest.raises(error) as refused:
        staff_region(principal, "61.04.16", "reports")
    assert str(refused.value) == message


def test_staff_in_scope_get_the_region() -> None:
    officer = Principal(role=Role.OFFICER, region_code="61.04.16")
    assert staff_region(officer, "61.04.16", "reports") == "61.04.16"
    assert staff_region(ROOT, "61.04", "reports") == "61.04"


def test_durations_count_working_days_as_the_workflow_does() -> None:
    # given: every pair of days around Idul Fitri 2026, both ways
    days = [date(2026, 3, 10) + timedelta(days=n) for n in range(25)]
    for start in days:
        for end in days:
            # when
            found = durations([(start, end, 1)])
            # then
            assert found.median == working_days_between(start, end), (start, end)
