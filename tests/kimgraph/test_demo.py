"""`kimgraph demo`'s data: every screen has content, and a second run adds none."""

from __future__ import annotations

from datetime import timedelta
from typing import cast

import pytest

from kimgraph import announcements, models
from kimgraph.accounts import auth
from kimgraph.accounts.auth import InvalidCredentials
from kimgraph.announcements.timers import TIMER_EXPIRE
from kimgraph.clock import FixedClock
from kimgraph.demo import DEMO_BOARD, load_demo
from kimgraph.errors import UserInputError
from kimgraph.models import AnnouncementPriority
from kimgraph.models.aspirations import AspirationStatus, AspirationVisibility
from tests.people import nobody_listens

TITLES = [
    "Peringatan banjir rob (DEMO)",
    "Perekaman KTP elektronik keliling (DEMO)",
    "Posyandu balita bulan ini (DEMO)",
    "Kerja bakti hari Minggu (DEMO)",
]


class Rings:
    """A doorbell that remembers the positions it was rung with."""

    def __init__(self) -> None:
        self.positions: list[int] = []

    async def __call__(self, position: int, /) -> None:
        self.positions.append(position)


async def counts() -> dict[str, int]:
    return {
        "kims": await models.Kim.all().count(),
        "accounts": await models.Account.all().count(),
        "api_keys": await models.ApiKey.all().count(),
        "tokens": await models.AccessToken.all().count(),
        "active_tokens": await models.AccessToken.filter(revoked_at=None).count(),
        "announcements": await models.Announcement.all().count(),
        "aspirations": await models.Aspiration.all().count(),
        "events": await models.Event.all().count(),
    }


async def test_demo_publishes_through_the_event_log(
    ketapang: str, clock: FixedClock
) -> None:
    # given
    rings = Rings()
    # when
    demo = await load_demo(clock, rings)
    # then
    assert [row.title for row in demo.announcements] == TITLES
    assert demo.published == {row.id for row in demo.announcements}
    events = await models.Event.all().order_by("id").values_list("stream", "kind")
    assert (
        events
        == [("announcement", "PUBLISHED")] * 4 + [("aspiration", "SUBMITTED")] * 2
    )
    # One ring per change, with its event's position.
    event_ids = await models.Event.all().order_by("id").values_list("id", flat=True)
    assert rings.positions == [cast(int, event_id) for event_id in event_ids]
    levels = {}
    for row in demo.announcements:
        codes = await models.AnnouncementTarget.filter(
            announcement_id=row.id
        ).values_list("region_id", flat=True)
        levels[row.title] = [str(code) for code in codes]
    assert levels == {
        TITLES[0]: ["61.04.16"],
        TITLES[1]: ["61.04"],
        TITLES[2]: ["61.04.16"],
        TITLES[3]: [DEMO_BOARD],
    }
    assert [row.priority for row in demo.announcements] == [
        AnnouncementPriority.EMERGENCY
    ] + [AnnouncementPriority.NORMAL] * 3
    public, via_kim = demo.aspirations
    assert (public.status, public.visibility, public.submitter_id, public.kim_id) == (
        AspirationStatus.SUBMITTED,
        AspirationVisibility.PUBLIC,
        None,
        None,
    )
    kim_account = await models.Account.get(username="demo.kim.sampit")
    assert (via_kim.visibility, via_kim.submitter_id, via_kim.kim_id) == (
        AspirationVisibility.CONFIDENTIAL,
        kim_account.id,
        demo.kims[0].id,
    )


async def test_demo_twice_adds_nothing_and_replaces_credentials(
    ketapang: str, clock: FixedClock
) -> None:
    # given
    first = await load_demo(clock, nobody_listens)
    password = first.accounts[0].password
    await auth.issue_token(clock, "demo.admin", password)
    before = await counts()
    rings = Rings()
    # when
    second = await load_demo(clock, rings)
    # then
    assert before == {
        "kims": 4,
        "accounts": 3,
        "api_keys": 1,
        "tokens": 1,
        "active_tokens": 1,
        "announcements": 4,
        "aspirations": 2,
        "events": 6,
    }
    assert await counts() == before | {"tokens": 0, "active_tokens": 0}
    assert rings.positions == []
    assert second.published == set()
    assert [row.id for row in second.announcements] == [
        row.id for row in first.announcements
    ]
    assert [row.ticket for row in second.aspirations] == [
        row.ticket for row in first.aspirations
    ]
    # The old credentials are gone, the new ones work.
    with pytest.raises(InvalidCredentials):
        await auth.authenticate(clock, f"Bearer {first.api_key}")
    partner = await auth.authenticate(clock, f"Bearer {second.api_key}")
    assert (partner.region_code, partner.display_name) == (
        "61.04",
        "Demo partner app (DEMO)",
    )
    admin = second.accounts[0]
    assert admin.username == "demo.admin"
    assert admin.password != password
    with pytest.raises(UserInputError):
        await auth.issue_token(clock, "demo.admin", password)
    await auth.issue_token(clock, "demo.admin", admin.password)
    # The accounts keep their ids: their announcements are still theirs.
    officer = await models.Account.get(username="demo.camat.deltapawan")
    assert {row.publisher_id for row in second.announcements[::2]} == {officer.id}


async def test_demo_emergency_expires_after_ten_minutes_then_comes_back(
    ketapang: str, clock: FixedClock
) -> None:
    # given
    first = await load_demo(clock, nobody_listens)
    emergency = first.announcements[0]
    timer = await models.Timer.get(kind=TIMER_EXPIRE, entity_id=emergency.id)
    # then
    assert emergency.valid_until == clock.now() + timedelta(minutes=10)
    assert timer.due_at == clock.now() + timedelta(minutes=10)
    clock.advance(timedelta(minutes=10) - timedelta(microseconds=1))
    assert (
        announcements.status_of(emergency, clock.now()) is announcements.Status.ACTIVE
    )
    clock.advance(timedelta(microseconds=1))
    assert (
        announcements.status_of(emergency, clock.now()) is announcements.Status.EXPIRED
    )
    # when
    again = await load_demo(clock, nobody_listens)
    # then: only the expired EMERGENCY one is published anew.
    renewed = again.announcements[0]
    assert again.published == {renewed.id}
    assert renewed.id != emergency.id
    assert (renewed.title, renewed.priority, renewed.valid_until) == (
        TITLES[0],
        AnnouncementPriority.EMERGENCY,
        clock.now() + timedelta(minutes=10),
    )
    assert [row.id for row in again.announcements[1:]] == [
        row.id for row in first.announcements[1:]
    ]
    assert await models.Announcement.all().count() == 5
    assert await models.Aspiration.all().count() == 2
