from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise import migrations
from tortoise.migrations import operations as ops

from kimgraph.aspirations import workdays

# Fixed here, not read from the workflow: a migration does what it did when written.
DISPOSE_DAYS = 2
RESPOND_AGAIN_DAYS = 10
TIMER_OVERDUE = "aspiration.overdue"
PAST = timedelta(microseconds=1)
# Open states whose deadline only turns the aspiration overdue.
OVERDUE_STATES = ("SUBMITTED", "VERIFIED", "DISPOSED", "IN_PROGRESS")


async def start_deadlines(apps: Any, schema_editor: Any) -> None:
    """Give open aspirations the deadlines of 0015 and their OVERDUE timer rows."""
    await backfill(apps, schema_editor.client, datetime.now(UTC))


async def backfill(apps: Any, conn: Any, now: datetime) -> None:
    """start_deadlines at the time now.

    VERIFIED, and IN_PROGRESS after a dispute or a reopening, had no dueAt: it
    is counted from the step into the state. A deadline already passed gets a
    timer row that is already fired: what was late before the upgrade is listed
    by `aspirations(overdue: true)`, but not announced with a burst of events.
    """
    aspiration = apps.get_model("models", "Aspiration")
    transition = apps.get_model("models", "AspirationTransition")
    timer = apps.get_model("models", "Timer")
    rows = await aspiration.filter(status__in=OVERDUE_STATES).using_db(conn)
    for row in rows:
        due = row.due_at
        if due is None:
            entered = (
                await transition.filter(aspiration_id=row.id)
                .order_by("-id")
                .using_db(conn)
                .first()
            )
            if entered is None:
                continue
            days = DISPOSE_DAYS if str(row.status) == "VERIFIED" else None
            if str(entered.from_status) in ("RESPONDED", "RESOLVED", "REJECTED"):
                days = RESPOND_AGAIN_DAYS
            if days is None:
                continue
            due = workdays.add_working_days(entered.at, days)
            await aspiration.filter(id=row.id).using_db(conn).update(due_at=due)
        pending = timer.filter(kind=TIMER_OVERDUE, entity_id=row.id).using_db(conn)
        if await pending.exists():
            continue
        await timer.create(
            kind=TIMER_OVERDUE,
            entity_id=row.id,
            due_at=due + PAST,
            fired_at=now if due < now else None,
            using_db=conn,
        )


class Migration(migrations.Migration):
    dependencies = [("models", "0015_reporter_keys")]

    initial = False

    operations = [ops.RunPython(start_deadlines, ops.RunPython.noop)]
