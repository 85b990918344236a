"""The event log: commit-order ids under concurrency, retention, cursors; timers."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from kimgraph import announcements, models, timers
from kimgraph.clock import FixedClock
from kimgraph.errors import InvalidCursorError
from kimgraph.events import log
from tests.people import ROOT

DESA = "61.04.16.2006"


def draft(title: str, **extra: object) -> announcements.Draft:
    return announcements.Draft(
        title=title,
        body=f"Isi {title}",
        category=models.AnnouncementCategory.GENERAL,
        targets=[DESA],
        **extra,  # type: ignore[arg-type]
    )


async def test_a_reader_following_concurrent_writers_never_skips_an_event(
    ketapang: str, clock: FixedClock
) -> None:
    # given: a reader that keeps reading after the last id it saw
    seen: list[int] = []
    done = asyncio.Event()

    async def follow() -> None:
        while True:
            finished = done.is_set()
            events = await log.read_after(seen[-1] if seen else 0, ["announcement"])
            seen.extend(e.id for e in events)
            if finished and not events:
                return
            await asyncio.sleep(0)

    reader = asyncio.create_task(follow())

    # when: eight writers publish twenty announcements each, concurrently
    async def writer(name: str) -> None:
        for n in range(20):
            await announcements.publish(clock, ROOT, draft(f"{name}-{n}"))

    await asyncio.gather(*(writer(f"w{i}") for i in range(8)))
    done.set()
    await asyncio.wait_for(reader, 60)
    # then: the reader saw every logged event, each once, in id order
    logged = [e.id for e in await models.Event.all().order_by("id")]
    assert len(logged) == 160
    assert seen == logged


async def test_cursors_round_trip_and_foreign_ones_are_refused() -> None:
    assert log.decode_cursor(log.encode_cursor(1234)) == 1234
    for foreign in ("", "abc", "cmVnaW9ufDYx", log.encode_cursor(5)[:-1] + "!"):
        with pytest.raises(InvalidCursorError):
            log.decode_cursor(foreign)


async def test_retention_expires_old_cursors(ketapang: str, clock: FixedClock) -> None:
    # given: two events a month apart
    first = await announcements.publish(clock, ROOT, draft("Lama"))
    clock.advance(timedelta(days=31))
    second = await announcements.publish(clock, ROOT, draft("Baru"))
    assert first.event_id is not None
    assert second.event_id is not None
    # when
    removed = await log.prune(clock.now() - timedelta(days=30))
    # then
    assert removed == 1
    with pytest.raises(log.CursorExpiredError) as caught:
        await log.check_cursor(first.event_id - 1)
    assert caught.value.code == "CURSOR_EXPIRED"
    await log.check_cursor(first.event_id)  # still fine: nothing after it was lost
    assert [e.id for e in await log.read_after(first.event_id, ["announcement"])] == [
        second.event_id
    ]


async def test_due_timers_fire_once_even_when_two_loops_race(
    ketapang: str, clock: FixedClock
) -> None:
    # given: one announcement scheduled, one expiring
    scheduled = await announcements.publish(
        clock, ROOT, draft("Nanti", valid_from=clock.now() + timedelta(hours=1))
    )
    expiring = await announcements.publish(
        clock, ROOT, draft("Sebentar", valid_until=clock.now() + timedelta(hours=2))
    )
    assert scheduled.event_id is None
    # when: before, then after both are due, two timer loops race
    assert await timers.fire_due(clock, announcements.TIMER_HANDLERS) is None
    clock.advance(timedelta(hours=3))
    results = await asyncio.gather(
        timers.fire_due(clock, announcements.TIMER_HANDLERS),
        timers.fire_due(clock, announcements.TIMER_HANDLERS),
    )
    # then: each fired exactly once
    assert any(r is not None for r in results)
    events = await models.Event.filter(id__gt=expiring.event_id or 0).order_by("id")
    assert [(e.kind, e.entity_id) for e in events] == [
        ("PUBLISHED", scheduled.announcement.id),
        ("EXPIRED", expiring.announcement.id),
    ]
    assert await models.Timer.filter(fired_at=None).count() == 0


async def test_withdrawal_cancels_pending_timers(
    ketapang: str, clock: FixedClock
) -> None:
    outcome = await announcements.publish(
        clock, ROOT, draft("Nanti", valid_from=clock.now() + timedelta(hours=1))
    )
    await announcements.withdraw(clock, ROOT, outcome.announcement.id, "Batal")
    clock.advance(timedelta(hours=2))
    assert await timers.fire_due(clock, announcements.TIMER_HANDLERS) is None
    events = await models.Event.filter(entity_id=outcome.announcement.id)
    assert [e.kind for e in events] == ["WITHDRAWN"]


async def test_a_fully_pruned_log_still_gives_a_valid_position(
    ketapang: str, clock: FixedClock
) -> None:
    # given: every event is older than the retention window
    outcome = await announcements.publish(clock, ROOT, draft("Lama"))
    clock.advance(timedelta(days=31))
    await log.prune(clock.now() - timedelta(days=30))
    # when
    position = await log.position()
    # then: a board that reads now may subscribe from there
    assert position == outcome.event_id
    await log.check_cursor(position)
