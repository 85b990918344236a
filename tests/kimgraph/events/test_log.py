"""The event log: commit-order ids, ringing after commit, retention, cursors; timers."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from tortoise.transactions import in_transaction

from kimgraph import announcements, models, timers
from kimgraph.clock import FixedClock
from kimgraph.cursors import decode_event_cursor, encode_event_cursor
from kimgraph.errors import InvalidCursorError
from kimgraph.events import log
from tests.kimgraph.events.doorbells import RecordingBus, Ring, committed
from tests.people import ROOT, nobody_listens

DESA = "61.04.16.2006"


class Abandoned(Exception):
    """Raised inside a transaction to roll it back."""


async def append(tx: log.Transaction, clock: FixedClock) -> int:
    """Log one event about the desa in tx; its id."""
    record = await log.append(
        tx,
        stream="announcement",
        kind="UPDATED",
        entity_id=1,
        regions=[DESA],
        occurred_at=clock.now(),
    )
    return record.id


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
            await announcements.publish(
                clock, nobody_listens, ROOT, draft(f"{name}-{n}")
            )

    await asyncio.gather(*(writer(f"w{i}") for i in range(8)))
    done.set()
    await asyncio.wait_for(reader, 60)
    # then: the reader saw every logged event, each once, in id order
    logged = [e.id for e in await models.Event.all().order_by("id")]
    assert len(logged) == 160
    assert seen == logged


async def test_cursors_round_trip_and_foreign_ones_are_refused() -> None:
    assert decode_event_cursor(encode_event_cursor(1234)) == 1234
    for foreign in ("", "abc", "cmVnaW9ufDYx", encode_event_cursor(5)[:-1] + "!"):
        with pytest.raises(InvalidCursorError):
            decode_event_cursor(foreign)


async def test_retention_expires_old_cursors(ketapang: str, clock: FixedClock) -> None:
    # given: two events a month apart
    first = await announcements.publish(clock, nobody_listens, ROOT, draft("Lama"))
    clock.advance(timedelta(days=31))
    second = await announcements.publish(clock, nobody_listens, ROOT, draft("Baru"))
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


async def test_a_cursor_past_the_newest_event_is_refused(
    ketapang: str, clock: FixedClock
) -> None:
    # given: a log whose newest event is the one just published (as after a
    # restore from a backup taken before the client's cursor was handed out)
    outcome = await announcements.publish(clock, nobody_listens, ROOT, draft("Baru"))
    assert outcome.event_id is not None
    await log.check_cursor(outcome.event_id)  # the newest is fine
    # when
    with pytest.raises(log.CursorExpiredError) as caught:
        await log.check_cursor(outcome.event_id + 1)
    # then
    assert caught.value.code == "CURSOR_EXPIRED"
    assert str(caught.value) == (
        "this cursor is newer than the event log (was the database restored?); "
        "refetch, then subscribe with the new eventCursor"
    )


async def test_due_timers_fire_once_even_when_two_loops_race(
    ketapang: str, clock: FixedClock
) -> None:
    # given: one announcement scheduled, one expiring
    scheduled = await announcements.publish(
        clock,
        nobody_listens,
        ROOT,
        draft("Nanti", valid_from=clock.now() + timedelta(hours=1)),
    )
    expiring = await announcements.publish(
        clock,
        nobody_listens,
        ROOT,
        draft("Sebentar", valid_until=clock.now() + timedelta(hours=2)),
    )
    assert scheduled.event_id is None
    # when: before, then after both are due, two timer loops race
    assert (
        await timers.fire_due(clock, nobody_listens, announcements.TIMER_HANDLERS)
        is None
    )
    clock.advance(timedelta(hours=3))
    results = await asyncio.gather(
        timers.fire_due(clock, nobody_listens, announcements.TIMER_HANDLERS),
        timers.fire_due(clock, nobody_listens, announcements.TIMER_HANDLERS),
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
        clock,
        nobody_listens,
        ROOT,
        draft("Nanti", valid_from=clock.now() + timedelta(hours=1)),
    )
    await announcements.withdraw(
        clock, nobody_listens, ROOT, outcome.announcement.id, "Batal"
    )
    clock.advance(timedelta(hours=2))
    assert (
        await timers.fire_due(clock, nobody_listens, announcements.TIMER_HANDLERS)
        is None
    )
    # and: a scheduled announcement is in no public stream before validFrom, so
    # neither its publication nor its withdrawal was logged (docs/domain.md)
    events = await models.Event.filter(entity_id=outcome.announcement.id)
    assert [e.kind for e in events] == []
    assert await models.Timer.filter(fired_at=None).count() == 0


async def test_a_fully_pruned_log_still_gives_a_valid_position(
    ketapang: str, clock: FixedClock
) -> None:
    # given: every event is older than the retention window
    outcome = await announcements.publish(clock, nobody_listens, ROOT, draft("Lama"))
    clock.advance(timedelta(days=31))
    await log.prune(clock.now() - timedelta(days=30))
    # when
    position = await log.position()
    # then: a board that reads now may subscribe from there
    assert position == outcome.event_id
    await log.check_cursor(position)


async def test_a_transaction_rings_once_after_its_commit_with_its_highest_id(
    db: str, clock: FixedClock
) -> None:
    # given
    bus = RecordingBus(db)
    # when: three events in one transaction
    async with log.transaction(bus.publish) as tx:
        ids = [await append(tx, clock) for _ in range(3)]
        # then: nothing rung, and nothing visible to others, before the commit
        assert bus.rings == []
        assert not await committed(db, ids[-1])
    # then: one ring, with the newest id, which others could already read
    assert ids == sorted(ids)
    assert bus.rings == [Ring(ids[-1], committed=True)]


async def test_a_rolled_back_transaction_rings_nothing(
    db: str, clock: FixedClock
) -> None:
    # given
    bus = RecordingBus(db)

    async def fail_after_logging() -> None:
        async with log.transaction(bus.publish) as tx:
            await append(tx, clock)
            raise Abandoned

    # when: the transaction fails after logging an event
    with pytest.raises(Abandoned):
        await fail_after_logging()
    # then
    assert bus.rings == []
    assert await models.Event.all().count() == 0


async def test_a_transaction_that_logs_nothing_rings_nothing(db: str) -> None:
    # given
    bus = RecordingBus(db)
    # when
    async with log.transaction(bus.publish) as tx:
        await models.Timer.filter(fired_at=None).using_db(tx.conn).delete()
    # then
    assert bus.rings == []


async def test_a_transaction_inside_another_is_refused(db: str) -> None:
    # Its "after the commit" would come before the outer transaction commits.
    bus = RecordingBus(db)
    with pytest.raises(RuntimeError, match="inside another transaction"):
        async with in_transaction(), log.transaction(bus.publish):
            pass
    assert bus.rings == []


async def test_a_timer_of_an_unknown_kind_is_left_and_blocks_nothing(
    ketapang: str, clock: FixedClock
) -> None:
    # given: a full batch of rows of a kind this version has no handler for (a
    # newer process wrote them), due before a scheduled publication
    unknown = [
        models.Timer(kind="FROM_A_NEWER_VERSION", entity_id=n, due_at=clock.now())
        for n in range(timers.BATCH + 1)
    ]
    await models.Timer.bulk_create(unknown)
    scheduled = await announcements.publish(
        clock,
        nobody_listens,
        ROOT,
        draft("Nanti", valid_from=clock.now() + timedelta(minutes=1)),
    )
    clock.advance(timedelta(minutes=2))
    # when
    newest = await timers.fire_due(clock, nobody_listens, announcements.TIMER_HANDLERS)
    # then: the publication fired; the unknown rows wait, unfired, for their version
    published = await models.Event.get(id=newest)
    assert (published.kind, published.entity_id) == (
        "PUBLISHED",
        scheduled.announcement.id,
    )
    assert await models.Timer.filter(
        kind="FROM_A_NEWER_VERSION", fired_at=None
    ).count() == (timers.BATCH + 1)


async def test_fired_timers_are_pruned_with_the_event_log(
    ketapang: str, clock: FixedClock
) -> None:
    # given: one timer fired 31 days ago, one fired 29 days ago, one pending
    now = clock.now()
    await models.Timer.create(
        kind="K", entity_id=1, due_at=now, fired_at=now - timedelta(days=31)
    )
    recent = await models.Timer.create(
        kind="K", entity_id=2, due_at=now, fired_at=now - timedelta(days=29)
    )
    pending = await models.Timer.create(
        kind="K", entity_id=3, due_at=now - timedelta(days=40)
    )
    loop = timers.TimerLoop(clock, nobody_listens, {}, retention=timedelta(days=30))
    # when
    await loop.tick()
    # then
    left = await models.Timer.all().order_by("id")
    assert [row.id for row in left] == [recent.id, pending.id]
