"""Aspiration deadlines in working days, and the timers that act on them once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from kimgraph import announcements, aspirations, models, timers
from kimgraph.accounts.principals import Principal, Role
from kimgraph.aspirations.deadlines import ARCHIVE_NOTE, RESOLVE_NOTE
from kimgraph.clock import FixedClock
from kimgraph.errors import UserInputError
from kimgraph.models.aspirations import AspirationStatus
from tests.conftest import execute
from tests.people import HOME_DESA, Cast, nobody_listens
from tests.resolvers.aspirations.steps import QUERY_ASPIRATION_TRACK

S = AspirationStatus
HANDLERS = {**announcements.TIMER_HANDLERS, **aspirations.TIMER_HANDLERS}
OFFICER = Principal(
    role=Role.OFFICER, region_code="61.04.16", display_name="Camat Delta Pawan"
)
STEPS: dict[AspirationStatus, dict[str, Any]] = {
    S.NEEDS_INFO: {"note": "Mohon kirim foto.", "public_note": "Mohon kirim foto."},
    S.DISPOSED: {"assigned_unit": "Dinas PUPR"},
    S.RESPONDED: {"public_note": "Perbaikan minggu depan."},
}


def kim_of(cast: Cast) -> Principal:
    return Principal(
        role=Role.KIM,
        region_code=HOME_DESA,
        display_name="Kim Suka Bangun",
        kim_id=cast.home_kim.id,
    )


async def new_aspiration(clock: FixedClock, cast: Cast) -> models.Aspiration:
    outcome = await aspirations.submit(
        clock,
        nobody_listens,
        kim_of(cast),
        aspirations.Submission(
            region=HOME_DESA,
            title="Drainase tersumbat",
            description="Parit di depan SD tersumbat sampah.",
            category=models.AspirationCategory.ENVIRONMENT,
            reporter_contact="0811-0000-1111",
        ),
    )
    return outcome.aspiration


async def walk(
    clock: FixedClock, row: models.Aspiration, *targets: AspirationStatus
) -> models.Aspiration:
    for target in targets:
        outcome = await aspirations.transition(
            clock,
            nobody_listens,
            OFFICER,
            row.id,
            aspirations.Step(
                target=target, expected_version=row.version, **STEPS.get(target, {})
            ),
        )
        row = outcome.aspiration
    return row


async def tracked(client: httpx.AsyncClient, row: models.Aspiration) -> Any:
    body = await execute(client, QUERY_ASPIRATION_TRACK, {"ticket": row.ticket})
    return body["data"]["aspirationTrack"]


def move_to(clock: FixedClock, moment: datetime) -> None:
    clock.advance(moment - clock.now())


async def test_deadlines_skip_the_weekend(
    client: httpx.AsyncClient, cast: Cast, clock: FixedClock
) -> None:
    # given: Saturday 28 November 2026, 08:00 WIB
    row = await new_aspiration(clock, cast)
    # then: verification by Wednesday (Mon, Tue, Wed), the day itself not counted
    assert (await tracked(client, row))["dueAt"] == "2026-12-02T16:59:59.999999+00:00"
    # when: disposed, then answered the same Saturday
    row = await walk(clock, row, S.VERIFIED, S.DISPOSED)
    disposed = (await tracked(client, row))["dueAt"]
    row = await walk(clock, row, S.IN_PROGRESS)
    in_progress = (await tracked(client, row))["dueAt"]
    row = await walk(clock, row, S.RESPONDED)
    responded = (await tracked(client, row))["dueAt"]
    # then: the unit's 5 days run on through IN_PROGRESS; 10 more after RESPONDED
    assert (disposed, in_progress, responded) == (
        "2026-12-04T16:59:59.999999+00:00",
        "2026-12-04T16:59:59.999999+00:00",
        "2026-12-11T16:59:59.999999+00:00",
    )


async def test_deadlines_skip_christmas_its_cuti_bersama_and_new_year(
    client: httpx.AsyncClient, cast: Cast, clock: FixedClock
) -> None:
    # given: Tuesday 22 December 2026, 09:00 WIB; 24 Dec is cuti bersama, 25 Dec
    # Hari Raya Natal, 1 Jan Tahun Baru Masehi
    move_to(clock, datetime(2026, 12, 22, 2, 0, tzinfo=UTC))
    row = await new_aspiration(clock, cast)
    verify = (await tracked(client, row))["dueAt"]
    row = await walk(clock, row, S.VERIFIED, S.DISPOSED)
    respond = (await tracked(client, row))["dueAt"]
    row = await walk(clock, row, S.RESPONDED)
    resolve = (await tracked(client, row))["dueAt"]
    # then: Wed 23, Mon 28, Tue 29 / … Thu 31 / … Mon 11 January 2027
    assert (verify, respond, resolve) == (
        "2026-12-29T16:59:59.999999+00:00",
        "2026-12-31T16:59:59.999999+00:00",
        "2027-01-11T16:59:59.999999+00:00",
    )


async def test_overdue_turns_true_once_the_deadline_has_passed(
    client: httpx.AsyncClient, cast: Cast, clock: FixedClock
) -> None:
    row = await new_aspiration(clock, cast)
    move_to(clock, datetime(2026, 12, 2, 16, 59, 59, 999999, tzinfo=UTC))
    assert (await tracked(client, row))["overdue"] is False
    clock.advance(timedelta(microseconds=1))
    assert (await tracked(client, row))["overdue"] is True


async def test_an_undisputed_response_is_resolved_by_the_timer_exactly_once(
    client: httpx.AsyncClient, cast: Cast, clock: FixedClock
) -> None:
    # given: answered on Saturday 28 November; 10 working days end 11 December
    row = await new_aspiration(clock, cast)
    row = await walk(clock, row, S.VERIFIED, S.DISPOSED, S.RESPONDED)
    move_to(clock, datetime(2026, 12, 11, 16, 59, tzinfo=UTC))
    # (this fires only the OVERDUE of the cast's aspiration, never verified)
    await timers.fire_due(clock, nobody_listens, HANDLERS)
    assert (await tracked(client, row))["status"] == "RESPONDED"
    # when: the deadline passes and two server processes look at once
    clock.advance(timedelta(minutes=5))
    results = await asyncio.gather(
        timers.fire_due(clock, nobody_listens, HANDLERS),
        timers.fire_due(clock, nobody_listens, HANDLERS),
    )
    # then: resolved once, by the timer, with a public note for the reporter
    assert sorted(results, key=lambda r: r is None)[1] is None
    view = await tracked(client, row)
    assert (view["status"], view["version"], view["dueAt"]) == ("RESOLVED", 5, None)
    assert view["history"][-1] == {
        "from": "RESPONDED",
        "to": "RESOLVED",
        "note": None,
        "publicNote": RESOLVE_NOTE,
        "assignedUnit": None,
        "actorName": "KIMgraph (tenggat waktu)",
    }
    events = await models.Event.filter(entity_id=row.id, stream="aspiration")
    assert [e.kind for e in events] == ["SUBMITTED", *["TRANSITIONED"] * 4]
    assert events[-1].occurred_at == datetime(2026, 12, 11, 17, 0, tzinfo=UTC)
    assert await timers.fire_due(clock, nobody_listens, HANDLERS) is None


async def test_a_dispute_stops_the_automatic_resolution(
    client: httpx.AsyncClient, cast: Cast, clock: FixedClock
) -> None:
    # given
    row = await new_aspiration(clock, cast)
    row = await walk(clock, row, S.VERIFIED, S.DISPOSED, S.RESPONDED)
    # when: the reporter disputes the response through its KIM
    await aspirations.transition(
        clock,
        nobody_listens,
        kim_of(cast),
        row.id,
        aspirations.Step(target=S.IN_PROGRESS, expected_version=row.version),
    )
    move_to(clock, datetime(2026, 12, 31, tzinfo=UTC))
    await timers.fire_due(clock, nobody_listens, HANDLERS)
    # then: still IN_PROGRESS; the unit's 10 working days to answer again passed
    # on 11 December, which only made it overdue
    view = await tracked(client, row)
    assert (view["status"], view["dueAt"], view["overdue"]) == (
        "IN_PROGRESS",
        "2026-12-11T16:59:59.999999+00:00",
        True,
    )
    events = await models.Event.filter(entity_id=row.id, stream="aspiration")
    assert [e.kind for e in events] == ["SUBMITTED", *["TRANSITIONED"] * 4, "OVERDUE"]


async def test_an_unanswered_request_for_information_is_archived_by_the_timer(
    client: httpx.AsyncClient, cast: Cast, clock: FixedClock
) -> None:
    # given: information asked for on Saturday 28 November
    row = await new_aspiration(clock, cast)
    row = await walk(clock, row, S.NEEDS_INFO)
    assert (await tracked(client, row))["dueAt"] == "2026-12-11T16:59:59.999999+00:00"
    # then: nobody archives it before the promised 10 working days
    with pytest.raises(UserInputError) as early:
        await walk(clock, row, S.ARCHIVED)
    assert [p.message for p in early.value.problems] == [
        "an aspiration can go from NEEDS_INFO to ARCHIVED only after its deadline "
        "(2026-12-11 23:59 WIB) has passed"
    ]
    # when
    move_to(clock, datetime(2026, 12, 12, tzinfo=UTC))
    fired = await timers.fire_due(clock, nobody_listens, HANDLERS)
    # then
    assert fired is not None
    view = await tracked(client, row)
    assert (view["status"], view["history"][-1]["publicNote"]) == (
        "ARCHIVED",
        ARCHIVE_NOTE,
    )
