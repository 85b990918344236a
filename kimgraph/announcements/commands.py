"""Announcements: publish, update, withdraw, relay."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from kimgraph import audit, models, timers
from kimgraph.accounts.authorization import Action, enforce, in_scope
from kimgraph.accounts.offices import office_of
from kimgraph.accounts.principals import Principal, Role
from kimgraph.announcements.changes import bump, conflict, managed, readable
from kimgraph.announcements.records import EventKind, Status, record_event, status_of
from kimgraph.announcements.rules import (
    MAX_REASON,
    check_instants,
    check_targets,
    check_text,
    check_valid_until,
)
from kimgraph.announcements.timers import TIMER_EXPIRE, TIMER_PUBLISH
from kimgraph.clock import Clock
from kimgraph.errors import Problem, ProblemCode, UserInputError, invalid
from kimgraph.events import log
from kimgraph.events.bus import Doorbell
from kimgraph.models import AnnouncementCategory, AnnouncementPriority


@dataclass(frozen=True, slots=True)
class Draft:
    """The input of announcementPublish."""

    title: str
    body: str
    category: AnnouncementCategory
    targets: Sequence[str]
    priority: AnnouncementPriority = AnnouncementPriority.NORMAL
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    kim_id: int | None = None
    # The warning review this publishes, if any: audited as the review's decision.
    review_id: int | None = None


@dataclass(frozen=True, slots=True)
class Changes:
    """The input of announcementUpdate; None leaves a field as it is."""

    expected_revision: int
    title: str | None = None
    body: str | None = None
    category: AnnouncementCategory | None = None
    priority: AnnouncementPriority | None = None
    valid_until: datetime | None = None
    clear_valid_until: bool = False


@dataclass(slots=True)
class Outcome:
    """The announcement after a change, and the newest event id it logged."""

    announcement: models.Announcement
    event_id: int | None = None
    targets: list[str] = field(default_factory=list)


async def publish(
    clock: Clock, doorbell: Doorbell, principal: Principal, draft: Draft
) -> Outcome:
    """Publish now, or schedule for valid_from; expiry is scheduled too."""
    enforce(principal, Action.ANNOUNCEMENT_PUBLISH)
    now = clock.now()
    problems: list[Problem] = []
    title, body = check_text(draft.title, draft.body, problems)
    valid_from = draft.valid_from or now
    times = {"validFrom": draft.valid_from, "validUntil": draft.valid_until}
    if check_instants(times, problems):
        check_valid_until(draft.valid_until, valid_from, now, problems)
    kim = await _publishing_kim(principal, draft.kim_id, problems)
    if problems:
        raise UserInputError(*problems)
    targets = await check_targets(principal, draft.targets, ("input", "targets"))
    assert title is not None, "a draft always has a title"
    assert body is not None, "a draft always has a body"
    async with log.transaction(doorbell) as tx:
        row = await models.Announcement.create(
            title=title,
            body=body,
            category=draft.category,
            priority=draft.priority,
            kim_id=kim.id if kim else None,
            publisher_id=principal.account_id,
            published_by=kim.name if kim else await office_of(principal),
            valid_from=valid_from,
            valid_until=draft.valid_until,
            created_at=now,
            updated_at=now,
            using_db=tx.conn,
        )
        for code in targets:
            await models.AnnouncementTarget.create(
                announcement=row, region_id=code, added_at=now, using_db=tx.conn
            )
        event_id = None
        if valid_from <= now:
            event_id = await record_event(tx, row, EventKind.PUBLISHED, now)
        else:
            await timers.schedule(tx.conn, TIMER_PUBLISH, row.id, valid_from)
        if draft.valid_until is not None:
            await timers.schedule(tx.conn, TIMER_EXPIRE, row.id, draft.valid_until)
        await audit.record(
            tx.conn,
            principal,
            audit.AuditAction.ANNOUNCEMENT_PUBLISH
            if draft.review_id is None
            else audit.AuditAction.WARNING_REVIEW_PUBLISH,
            audit.target("Announcement", row.id)
            if draft.review_id is None
            else audit.target("WarningReview", draft.review_id),
            {
                "announcement": audit.target("Announcement", row.id).id,
                "title": title,
                "priority": draft.priority.name,
                "targets": targets,
            },
            at=now,
        )
    return Outcome(row, event_id, targets)


async def _publishing_kim(
    principal: Principal, kim_id: int | None, problems: list[Problem]
) -> models.Kim | None:
    if principal.role is Role.KIM:
        if kim_id is not None and kim_id != principal.kim_id:
            problems.append(
                Problem(
                    ProblemCode.OUT_OF_SCOPE,
                    "a KIM publishes as itself",
                    ["input", "kimId"],
                )
            )
        return await models.Kim.get_or_none(id=principal.kim_id)
    if kim_id is None:
        return None
    kim = await models.Kim.get_or_none(id=kim_id)
    if kim is None:
        problems.append(
            Problem(ProblemCode.NOT_FOUND, "there is no such KIM", ["input", "kimId"])
        )
    elif not in_scope(principal, kim.region_id):
        problems.append(
            Problem(
                ProblemCode.OUT_OF_SCOPE,
                "that KIM lies outside your region",
                ["input", "kimId"],
            )
        )
    return kim


async def update(
    clock: Clock,
    doorbell: Doorbell,
    principal: Principal,
    announcement_id: int | None,
    changes: Changes,
) -> Outcome:
    """Change text, category, priority or validUntil; stale revisions conflict."""
    now = clock.now()
    row = (await managed(principal, announcement_id, now)).row
    problems: list[Problem] = []
    title, body = check_text(changes.title, changes.body, problems)
    if check_instants({"validUntil": changes.valid_until}, problems):
        check_valid_until(changes.valid_until, row.valid_from, now, problems)
    if row.withdrawn_at is not None:
        problems.append(
            Problem(ProblemCode.INVALID, "a withdrawn announcement is final", ["id"])
        )
    if problems:
        raise UserInputError(*problems)
    values: dict[str, object] = {
        "updated_at": now,
        "revision": changes.expected_revision + 1,
    }
    for name, value in (
        ("title", title),
        ("body", body),
        ("category", changes.category),
        ("priority", changes.priority),
        ("valid_until", changes.valid_until),
    ):
        if value is not None:
            values[name] = value
    if changes.clear_valid_until:
        values["valid_until"] = None
    async with log.transaction(doorbell) as tx:
        # Conditional on the revision the editor saw: of two editors, one wins.
        changed = (
            await models.Announcement.filter(
                id=row.id, revision=changes.expected_revision
            )
            .using_db(tx.conn)
            .update(**values)
        )
        await row.refresh_from_db(using_db=tx.conn)
        if not changed:
            raise conflict(row.revision, changes.expected_revision)
        if changes.clear_valid_until:
            await timers.cancel(tx.conn, TIMER_EXPIRE, row.id)
        elif changes.valid_until is not None:
            await timers.schedule(tx.conn, TIMER_EXPIRE, row.id, changes.valid_until)
        event_id = await _public_event(tx, row, EventKind.UPDATED, now)
        await audit.record(
            tx.conn,
            principal,
            audit.AuditAction.ANNOUNCEMENT_UPDATE,
            audit.target("Announcement", row.id),
            {
                "changed": sorted(set(values) - {"updated_at", "revision"}),
                "revision": row.revision,
            },
            at=now,
        )
    return Outcome(row, event_id)


async def _public_event(
    tx: log.Transaction, row: models.Announcement, kind: EventKind, now: datetime
) -> int | None:
    """Log the change, unless the announcement is still scheduled.

    Events are public (announcementEvents is shared by all who subscribe alike);
    a scheduled announcement is not (visibility.py). Its PUBLISHED event, at
    validFrom, carries it as it then is.
    """
    if now < row.valid_from:
        return None
    return await record_event(tx, row, kind, now)


def _not_withdrawn(row: models.Announcement) -> None:
    if row.withdrawn_at is not None:
        raise invalid("the announcement is already withdrawn", "id")


async def withdraw(
    clock: Clock,
    doorbell: Doorbell,
    principal: Principal,
    announcement_id: int | None,
    reason: str,
) -> Outcome:
    """Take an announcement down for good."""
    now = clock.now()
    row = (await managed(principal, announcement_id, now)).row
    reason = " ".join(reason.split())
    if not 1 <= len(reason) <= MAX_REASON:
        raise invalid(f"must have 1-{MAX_REASON} characters", "reason")
    _not_withdrawn(row)
    async with log.transaction(doorbell) as tx:
        values = {"withdrawn_at": now, "withdraw_reason": reason, "updated_at": now}
        await bump(tx, row, values, _not_withdrawn)
        await timers.cancel(tx.conn, TIMER_PUBLISH, row.id)
        await timers.cancel(tx.conn, TIMER_EXPIRE, row.id)
        event_id = await _public_event(tx, row, EventKind.WITHDRAWN, now)
        await audit.record(
            tx.conn,
            principal,
            audit.AuditAction.ANNOUNCEMENT_WITHDRAW,
            audit.target("Announcement", row.id),
            {"reason": reason},
            at=now,
        )
    return Outcome(row, event_id)


async def relay(
    clock: Clock,
    doorbell: Doorbell,
    principal: Principal,
    announcement_id: int | None,
    codes: list[str],
) -> Outcome:
    """Pass an announcement on to regions in the caller's own scope."""
    enforce(principal, Action.ANNOUNCEMENT_PUBLISH)
    now = clock.now()
    found = await readable(principal, announcement_id, now)
    row = found.row
    targets = await check_targets(principal, codes, ("targets",))

    def relayable(row: models.Announcement) -> None:
        status = status_of(row, now)
        if status in (Status.WITHDRAWN, Status.EXPIRED):
            raise invalid(f"a {status.lower()} announcement is not relayed", "id")

    def new_of(present: list[str]) -> list[str]:
        new = [code for code in targets if code not in present]
        if not new:
            raise invalid("the announcement already reaches these regions", "targets")
        return new

    relayable(row)
    new_of(found.targets)
    relayer = await office_of(principal)  # an office, never a login
    async with log.transaction(doorbell) as tx:
        # The revision first: on PostgreSQL it locks the row, so two relays of
        # it run one after the other, and the second reads the first's targets.
        await bump(tx, row, {"updated_at": now}, relayable)
        present = (
            await models.AnnouncementTarget.filter(announcement_id=row.id)
            .using_db(tx.conn)
            .values_list("region_id", flat=True)
        )
        new = new_of([str(code) for code in present])
        for code in new:
            await models.AnnouncementTarget.create(
                announcement=row,
                region_id=code,
                relayed_by=relayer,
                added_at=now,
                using_db=tx.conn,
            )
        event_id = await _public_event(tx, row, EventKind.UPDATED, now)
        await audit.record(
            tx.conn,
            principal,
            audit.AuditAction.ANNOUNCEMENT_RELAY,
            audit.target("Announcement", row.id),
            {"added": new},
            at=now,
        )
    return Outcome(row, event_id, new)
