"""Erasure after KIMGRAPH_PII_RETENTION_DAYS: only what is due, history kept."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

from kimgraph import aspirations, models
from kimgraph.clock import FixedClock
from kimgraph.models.aspirations import AspirationStatus as S
from kimgraph.pii import erasure, keys
from kimgraph.timers import TimerLoop
from tests.people import HOME_DESA, ROOT, nobody_listens

RETENTION = timedelta(days=365)
SECRET = "pii-erasure-secret-0123456789abcdefghijkl"


@pytest.fixture(autouse=True)
def keyring() -> Iterator[None]:
    keys.install(keys.Keyring(SECRET))
    yield
    keys.install(None)


async def _aspiration(name: str, steps: list[tuple[S, datetime]]) -> int:
    """An aspiration with a reporter, moved through steps at the given times."""
    # Submitted the day before its first step (the submission is a step too).
    submitted = FixedClock(steps[0][1] - timedelta(days=1))
    row = (
        await aspirations.submit(
            submitted,
            nobody_listens,
            ROOT,
            aspirations.Submission(
                region=HOME_DESA,
                title=f"Aspirasi {name}",
                description="Jembatan kayu di dusun II lapuk.",
                category=models.AspirationCategory.INFRASTRUCTURE,
                reporter_name=name,
                reporter_contact=f"{name.lower()}@example.id",
            ),
        )
    ).aspiration
    status = S.SUBMITTED
    for target, at in steps:
        await models.AspirationTransition.create(
            aspiration_id=row.id,
            from_status=status,
            to_status=target,
            capacity="VERIFIER",
            actor_name="Kantor Desa Suka Bangun",
            note=f"{status} to {target}",
            at=at,
        )
        status = target
    await models.Aspiration.filter(id=row.id).update(status=status)
    return row.id


async def _personal() -> dict[str, tuple[str | None, str | None]]:
    rows = await models.Aspiration.all().order_by("id")
    return {row.title: (row.reporter_name, row.reporter_contact) for row in rows}


async def _history() -> list[tuple[object, ...]]:
    transitions = await models.AspirationTransition.all().order_by("id").values_list()
    events = await models.Event.all().order_by("id").values_list()
    kept = (
        await models.Aspiration.all()
        .order_by("id")
        .values_list("id", "ticket", "title", "description", "status", "region_id")
    )
    return [*map(tuple, transitions), *map(tuple, events), *map(tuple, kept)]


async def test_erasure_removes_only_what_has_been_closed_past_retention(
    ketapang: str, clock: FixedClock
) -> None:
    # given: now is 2026-11-28 01:00 UTC
    now = clock.now()
    await _aspiration(
        "Due",
        [
            (S.VERIFIED, now - timedelta(days=370)),
            (S.REJECTED, now - timedelta(days=366)),
        ],
    )
    await _aspiration("Young", [(S.DUPLICATE, now - timedelta(days=364))])
    edge = now - RETENTION + timedelta(minutes=10)
    await _aspiration("Edge", [(S.ARCHIVED, edge)])
    await _aspiration("Open", [(S.VERIFIED, now - timedelta(days=400))])
    # closed long ago, reopened, closed again recently: the last closing counts
    await _aspiration(
        "Reopened",
        [
            (S.RESOLVED, now - timedelta(days=500)),
            (S.IN_PROGRESS, now - timedelta(days=300)),
            (S.RESOLVED, now - timedelta(days=200)),
        ],
    )
    # closed long ago and hidden today: moderation does not restart the clock
    hidden = await _aspiration("Hidden", [(S.WITHDRAWN, now - timedelta(days=400))])
    await models.Aspiration.filter(id=hidden).update(hidden=True, updated_at=now)
    history = await _history()
    # The timer loop the app runs, with the erasure as its hourly job.
    erase = erasure.hourly(RETENTION)
    erased: list[int] = []

    async def job(now: datetime) -> None:
        erased.append(await erase(now))

    # Event retention is a rule of its own: kept out of the way here.
    # So are the deadlines: their timers (an OVERDUE for Reopened) are dropped.
    await models.Timer.all().delete()
    loop = TimerLoop(
        clock, nobody_listens, {}, retention=timedelta(days=3650), hourly=[job]
    )
    # when
    await loop.tick()
    # then
    assert erased == [2]
    assert await _personal() == {
        "Aspirasi Due": (None, None),
        "Aspirasi Young": ("Young", "young@example.id"),
        "Aspirasi Edge": ("Edge", "edge@example.id"),
        "Aspirasi Open": ("Open", "open@example.id"),
        "Aspirasi Reopened": ("Reopened", "reopened@example.id"),
        "Aspirasi Hidden": (None, None),
    }
    assert await _history() == history
    # when: Edge falls due 10 minutes later, but a round runs once an hour
    clock.advance(timedelta(minutes=20))
    await loop.tick()
    assert erased == [2]
    assert (await _personal())["Aspirasi Edge"] == ("Edge", "edge@example.id")
    clock.advance(timedelta(minutes=50))
    await loop.tick()
    # and: Young a day later
    clock.advance(timedelta(days=1))
    await loop.tick()
    assert erased == [2, 1, 1]
    # then
    personal = await _personal()
    assert (personal["Aspirasi Edge"], personal["Aspirasi Young"]) == (
        (None, None),
        (None, None),
    )
    assert personal["Aspirasi Reopened"] == ("Reopened", "reopened@example.id")
    assert await _history() == history
