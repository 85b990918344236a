"""Every open state's deadline, and the one OVERDUE event each deadline logs."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from kimgraph import aspirations, models, timers
from kimgraph.accounts.principals import Principal
from kimgraph.aspirations import access_for, queries
from kimgraph.aspirations.workdays import ZONE
from kimgraph.clock import FixedClock
from kimgraph.events.log import EventRecord
from kimgraph.live.hub import Delivery
from kimgraph.models.aspirations import AspirationStatus
from resolvers.aspiration_events import to_event
from schema.aspirations import AspirationEventKind
from tests.kimgraph.aspirations.test_deadlines import (
    HANDLERS,
    OFFICER,
    kim_of,
    move_to,
    new_aspiration,
    tracked,
)
from tests.people import Cast, nobody_listens

S = AspirationStatus
MICRO = timedelta(microseconds=1)
# What each step needs besides its target, so that every guard is satisfied.
FIELDS: dict[AspirationStatus, dict[str, Any]] = {
    S.NEEDS_INFO: {"note": "Mohon kirim foto.", "public_note": "Mohon kirim foto."},
    S.SUBMITTED: {"note": "Foto dikirim lewat KIM."},
    S.DISPOSED: {"assigned_unit": "Dinas PUPR"},
    S.RESPONDED: {"public_note": "Perbaikan minggu depan."},
    S.REJECTED: {"note": "Lahan pribadi.", "public_note": "Lahan pribadi."},
    S.IN_PROGRESS: {"note": "Dibuka kembali."},
}
# Steps from SUBMITTED to each open state a deadline runs in, by the verifier
# (V) or the reporter's KIM (K).
PATHS: dict[str, list[tuple[str, AspirationStatus]]] = {
    "submitted": [],
    "back from NEEDS_INFO": [("V", S.NEEDS_INFO), ("K", S.SUBMITTED)],
    "verified": [("V", S.VERIFIED)],
    "disposed": [("V", S.VERIFIED), ("V", S.DISPOSED)],
    "in progress": [("V", S.VERIFIED), ("V", S.DISPOSED), ("V", S.IN_PROGRESS)],
    "re-disposed": [("V", S.VERIFIED), ("V", S.DISPOSED), ("V", S.DISPOSED)],
    "disputed": [
        ("V", S.VERIFIED),
        ("V", S.DISPOSED),
        ("V", S.RESPONDED),
        ("K", S.IN_PROGRESS),
    ],
    "reopened after RESOLVED": [
        ("V", S.VERIFIED),
        ("V", S.DISPOSED),
        ("V", S.RESPONDED),
        ("V", S.RESOLVED),
        ("V", S.IN_PROGRESS),
    ],
    "reopened after REJECTED": [
        ("V", S.VERIFIED),
        ("V", S.DISPOSED),
        ("V", S.IN_PROGRESS),
        ("V", S.REJECTED),
        ("V", S.IN_PROGRESS),
    ],
}


def wib(day: str, hour: int = 9) -> datetime:
    """A moment of a day in Asia/Pontianak."""
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=ZONE)


async def step(
    clock: FixedClock,
    cast: Cast,
    row: models.Aspiration,
    target: AspirationStatus,
    who: str = "V",
) -> models.Aspiration:
    principal: Principal = OFFICER if who == "V" else kim_of(cast)
    outcome = await aspirations.transition(
        clock,
        nobody_listens,
        principal,
        row.id,
        aspirations.Step(
            target=target, expected_version=row.version, **FIELDS.get(target, {})
        ),
    )
    return outcome.aspiration


async def kinds(row: models.Aspiration) -> list[str]:
    """The row's events, oldest first."""
    events = await models.Event.filter(stream="aspiration", entity_id=row.id)
    return [e.kind for e in sorted(events, key=lambda e: e.id)]


async def overdue_events(row: models.Aspiration) -> list[datetime]:
    """When each OVERDUE event of the row says its deadline passed."""
    events = await models.Event.filter(
        stream="aspiration", entity_id=row.id, kind="OVERDUE"
    ).order_by("id")
    return [e.occurred_at for e in events]


async def test_every_open_state_has_its_deadline_across_holidays(
    client: httpx.AsyncClient, cast: Cast, clock: FixedClock
) -> None:
    # given: Christmas week 2026: Thu 24 Dec is cuti bersama, Fri 25 Hari Raya
    # Natal, Fri 1 Jan Tahun Baru, Tue 5 Jan Isra Mikraj; weekends in between
    dues: dict[str, Any] = {}
    move_to(clock, wib("2026-12-22"))
    row = await new_aspiration(clock, cast)

    async def at(
        moment: datetime, label: str, target: AspirationStatus, who: str
    ) -> None:
        nonlocal row
        move_to(clock, moment)
        row = await step(clock, cast, row, target, who)
        dues[label] = (await tracked(client, row))["dueAt"]

    dues["submitted Tue 22"] = (await tracked(client, row))["dueAt"]
    # when: every open state, each entered on its own day
    await at(wib("2026-12-22"), "needs info Tue 22", S.NEEDS_INFO, "V")
    await at(wib("2026-12-23"), "back Wed 23", S.SUBMITTED, "K")
    await at(wib("2026-12-23"), "verified Wed 23", S.VERIFIED, "V")
    await at(wib("2026-12-28"), "disposed Mon 28", S.DISPOSED, "V")
    await at(wib("2026-12-29"), "re-disposed Tue 29", S.DISPOSED, "V")
    await at(wib("2026-12-29", 15), "in progress Tue 29", S.IN_PROGRESS, "V")
    await at(wib("2026-12-30"), "responded Wed 30", S.RESPONDED, "V")
    await at(wib("2026-12-31"), "disputed Thu 31", S.IN_PROGRESS, "K")
    await at(wib("2027-01-04"), "responded Mon 4", S.RESPONDED, "V")
    await at(wib("2027-01-04", 10), "resolved Mon 4", S.RESOLVED, "V")
    await at(wib("2027-01-04", 11), "reopened Mon 4", S.IN_PROGRESS, "V")
    await at(wib("2027-01-05"), "rejected Tue 5", S.REJECTED, "V")
    await at(wib("2027-01-06"), "reopened Wed 6", S.IN_PROGRESS, "V")
    # then: the end (23:59:59.999999 WIB) of the n-th working day after
    end = "T16:59:59.999999+00:00"
    assert dues == {
        "submitted Tue 22": f"2026-12-29{end}",  # verify 3: 23, 28, 29
        "needs info Tue 22": f"2027-01-11{end}",  # archive 10: … 31, 4, 6, 7, 8, 11
        "back Wed 23": f"2026-12-30{end}",  # verify 3: 28, 29, 30
        "verified Wed 23": f"2026-12-29{end}",  # dispose 2: 28, 29
        "disposed Mon 28": f"2027-01-06{end}",  # respond 5: 29, 30, 31, 4, 6
        "re-disposed Tue 29": f"2027-01-07{end}",  # respond 5: 30, 31, 4, 6, 7
        "in progress Tue 29": f"2027-01-07{end}",  # the response's, running on
        "responded Wed 30": f"2027-01-15{end}",  # auto-resolve 10
        "disputed Thu 31": f"2027-01-18{end}",  # respond again 10: 4, 6 … 15, 18
        "responded Mon 4": f"2027-01-19{end}",
        "resolved Mon 4": None,
        "reopened Mon 4": f"2027-01-19{end}",  # respond again 10: 6 … 15, 18, 19
        "rejected Tue 5": None,
        "reopened Wed 6": f"2027-01-20{end}",  # respond again 10: 7 … 19, 20
    }


@pytest.mark.parametrize("path", list(PATHS))
async def test_a_passed_deadline_logs_one_overdue_event_even_with_two_loops(
    client: httpx.AsyncClient, cast: Cast, clock: FixedClock, path: str
) -> None:
    # given: an aspiration walked to an open state on Saturday 28 November
    row = await new_aspiration(clock, cast)
    for who, target in PATHS[path]:
        row = await step(clock, cast, row, target, who)
    before = await tracked(client, row)
    due = datetime.fromisoformat(before["dueAt"])
    events_before = await kinds(row)
    # when: the deadline is reached, then passed with two loops at once
    move_to(clock, due)
    await timers.fire_due(clock, nobody_listens, HANDLERS)
    on_time = await overdue_events(row)
    clock.advance(MICRO)
    await asyncio.gather(
        timers.fire_due(clock, nobody_listens, HANDLERS),
        timers.fire_due(clock, nobody_listens, HANDLERS),
    )
    clock.advance(timedelta(days=60))
    await timers.fire_due(clock, nobody_listens, HANDLERS)
    # then: one OVERDUE, at the moment the deadline passed; nothing else changed
    after = await tracked(client, row)
    assert on_time == []
    assert await kinds(row) == [*events_before, "OVERDUE"]
    assert await overdue_events(row) == [due + MICRO]
    assert {**after, "overdue": False} == before
    assert after["overdue"] is True


async def test_each_new_deadline_gets_its_own_overdue_and_a_kept_one_none(
    cast: Cast, clock: FixedClock
) -> None:
    # given: submitted Saturday 28 November, verification due Wed 2 December
    row = await new_aspiration(clock, cast)
    move_to(clock, wib("2026-12-03"))
    await timers.fire_due(clock, nobody_listens, HANDLERS)
    # when: verified late (disposition due Mon 7), disposed late on Tue 8
    # (response due Tue 15), work started late on Wed 16
    row = await step(clock, cast, row, S.VERIFIED)
    move_to(clock, wib("2026-12-08"))
    await timers.fire_due(clock, nobody_listens, HANDLERS)
    row = await step(clock, cast, row, S.DISPOSED)
    move_to(clock, wib("2026-12-16"))
    await timers.fire_due(clock, nobody_listens, HANDLERS)
    row = await step(clock, cast, row, S.IN_PROGRESS)
    move_to(clock, wib("2027-02-01"))
    await timers.fire_due(clock, nobody_listens, HANDLERS)
    # then: one OVERDUE per deadline; IN_PROGRESS kept the response's deadline
    # and with it its OVERDUE, logged already
    assert await kinds(row) == [
        "SUBMITTED",
        "OVERDUE",
        "TRANSITIONED",
        "OVERDUE",
        "TRANSITIONED",
        "OVERDUE",
        "TRANSITIONED",
    ]
    assert await overdue_events(row) == [
        datetime(2026, 12, 2, 17, 0, tzinfo=UTC),
        datetime(2026, 12, 7, 17, 0, tzinfo=UTC),
        datetime(2026, 12, 15, 17, 0, tzinfo=UTC),
    ]


async def test_a_state_left_in_time_logs_no_overdue(
    cast: Cast, clock: FixedClock
) -> None:
    # given: every step a day before its deadline
    row = await new_aspiration(clock, cast)
    for day, target, who in [
        ("2026-12-01", S.VERIFIED, "V"),
        ("2026-12-02", S.DISPOSED, "V"),
        ("2026-12-08", S.RESPONDED, "V"),
        ("2026-12-09", S.IN_PROGRESS, "K"),
        ("2026-12-10", S.WITHDRAWN, "K"),
    ]:
        move_to(clock, wib(day))
        await timers.fire_due(clock, nobody_listens, HANDLERS)
        row = await step(clock, cast, row, target, who)
    # when: long after every deadline
    move_to(clock, wib("2027-03-01"))
    await timers.fire_due(clock, nobody_listens, HANDLERS)
    # then
    assert await kinds(row) == ["SUBMITTED", *["TRANSITIONED"] * 5]
    assert await models.Timer.filter(entity_id=row.id, fired_at=None).count() == 0


async def test_timed_steps_are_their_own_event_and_log_no_overdue(
    cast: Cast, clock: FixedClock
) -> None:
    # given: one waits for information, one for the reporter after a response
    asked = await step(clock, cast, await new_aspiration(clock, cast), S.NEEDS_INFO)
    answered = await new_aspiration(clock, cast)
    for target in (S.VERIFIED, S.DISPOSED, S.RESPONDED):
        answered = await step(clock, cast, answered, target)
    # when: both deadlines pass
    move_to(clock, wib("2027-01-04"))
    await timers.fire_due(clock, nobody_listens, HANDLERS)
    # then: the timer's step, and no OVERDUE
    assert await kinds(asked) == ["SUBMITTED", "TRANSITIONED", "TRANSITIONED"]
    assert await kinds(answered) == ["SUBMITTED", *["TRANSITIONED"] * 4]
    assert [
        (await models.Aspiration.get(id=r.id)).status for r in (asked, answered)
    ] == [
        S.ARCHIVED,
        S.RESOLVED,
    ]


async def test_a_state_left_late_before_the_loop_ran_is_still_overdue_once(
    cast: Cast, clock: FixedClock
) -> None:
    # given: verification due Wed 2 December; the server was down until Friday
    row = await new_aspiration(clock, cast)
    move_to(clock, wib("2026-12-04"))
    # when: verified before the loop's first round
    row = await step(clock, cast, row, S.VERIFIED)
    await timers.fire_due(clock, nobody_listens, HANDLERS)
    # then: the step logged the verification's OVERDUE first, stamped when it
    # passed; the loop added none
    assert await kinds(row) == ["SUBMITTED", "OVERDUE", "TRANSITIONED"]
    assert await overdue_events(row) == [datetime(2026, 12, 2, 17, 0, tzinfo=UTC)]


async def test_the_overdue_event_carries_what_every_event_carries(
    cast: Cast, clock: FixedClock
) -> None:
    # given: an overdue aspiration, followed by the officer who may read the
    # reporter's contact in queries
    row = await new_aspiration(clock, cast)
    move_to(clock, wib("2026-12-03"))
    await timers.fire_due(clock, nobody_listens, HANDLERS)
    stored = await models.Event.get(entity_id=row.id, kind="OVERDUE")
    record = EventRecord.from_model(stored)
    following = await queries.following(OFFICER, None, None, None)
    # when
    prepared = await queries.prepare_events([record])
    event = to_event(following, Delivery(record, prepared[record.id]))
    # then: no status change, no note, no personal data
    assert event is not None
    assert (event.kind, event.from_, event.to, event.note, event.occurred_at) == (
        AspirationEventKind.OVERDUE,
        None,
        None,
        None,
        datetime(2026, 12, 2, 17, 0, tzinfo=UTC),
    )
    assert following.accepts(record)
    in_queries = access_for(OFFICER, row)
    assert in_queries is not None
    assert in_queries.personal_data is True
    assert following.access(row) == in_queries.for_events()
    assert (event.aspiration.reporter_name(), event.aspiration.reporter_contact()) == (
        None,
        None,
    )
