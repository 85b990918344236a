"""0016_deadlines: open aspirations of an older database get their deadlines."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime
from types import SimpleNamespace

from tortoise import Tortoise
from tortoise.models import Model

from kimgraph import models
from kimgraph.aspirations.records import TIMER_OVERDUE
from kimgraph.clock import FixedClock
from kimgraph.models.aspirations import AspirationStatus as S
from tests.kimgraph.aspirations.test_deadlines import move_to, new_aspiration
from tests.kimgraph.aspirations.test_overdue import step, wib
from tests.people import Cast

MIGRATION = importlib.import_module("kimgraph.migrations.0016_deadlines")


class Apps:
    """The models as the migration asks for them."""

    def get_model(self, app_label: str, name: str) -> type[Model]:
        model: type[Model] = getattr(models, name)
        return model


async def test_open_aspirations_get_their_deadlines_and_overdue_timers(
    cast: Cast, clock: FixedClock
) -> None:
    # given: as 0015 left them, the real clock long past December 2026 for one:
    # verified Tue 22 December 2026 without dueAt, disputed Tue 22 without,
    # disposed with its dueAt; none with an OVERDUE timer
    move_to(clock, wib("2026-12-22"))
    verified = await step(clock, cast, await new_aspiration(clock, cast), S.VERIFIED)
    disputed = await new_aspiration(clock, cast)
    for target in (S.VERIFIED, S.DISPOSED, S.RESPONDED):
        disputed = await step(clock, cast, disputed, target)
    disputed = await step(clock, cast, disputed, S.IN_PROGRESS, "K")
    disposed = await new_aspiration(clock, cast)
    for target in (S.VERIFIED, S.DISPOSED):
        disposed = await step(clock, cast, disposed, target)
    await models.Aspiration.filter(id__in=[verified.id, disputed.id]).update(
        due_at=None
    )
    await models.Timer.filter(kind=TIMER_OVERDUE).delete()
    # when: upgraded on Wed 30 December 2026
    upgraded = datetime(2026, 12, 30, 3, 0, tzinfo=UTC)
    connection = Tortoise.get_connection("default")
    await MIGRATION.backfill(Apps(), connection, upgraded)
    # then: dispose 2 (23, 28 December), respond again 10 (… 7, 8, 11 January),
    # respond 5 as before; the cast's own SUBMITTED one too
    dues = {
        row.id: row.due_at.isoformat()
        for row in await models.Aspiration.all()
        if row.due_at is not None
    }
    end = "T16:59:59.999999+00:00"
    home = cast.home_aspiration.id
    assert dues == {
        home: f"2026-12-02{end}",
        verified.id: f"2026-12-28{end}",
        disputed.id: f"2027-01-11{end}",
        disposed.id: f"2026-12-31{end}",
    }
    # and: the deadlines passed before the upgrade are fired already, without a
    # burst of OVERDUE events; the others wait for the loop
    timers = await models.Timer.filter(kind=TIMER_OVERDUE).order_by("entity_id")
    assert [(t.entity_id, t.due_at.isoformat(), t.fired_at) for t in timers] == [
        (home, "2026-12-02T17:00:00+00:00", upgraded),
        (verified.id, "2026-12-28T17:00:00+00:00", upgraded),
        (disputed.id, "2027-01-11T17:00:00+00:00", None),
        (disposed.id, "2026-12-31T17:00:00+00:00", None),
    ]
    assert await models.Event.filter(kind="OVERDUE").count() == 0
    # when: run again, it adds nothing
    await MIGRATION.start_deadlines(Apps(), SimpleNamespace(client=connection))
    assert await models.Timer.filter(kind=TIMER_OVERDUE).count() == 4
