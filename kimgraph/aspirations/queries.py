"""Reads of aspirations: scope, by ticket, lists, batch lookups, event following."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from kimgraph import models
from kimgraph.accounts.authorization import Action, enforce, in_scope
from kimgraph.accounts.principals import Principal
from kimgraph.aspirations import (
    STREAM,
    Access,
    access_for,
    normalize_ticket,
    public_access,
)
from kimgraph.aspirations.workflow import OPEN_STATES
from kimgraph.errors import ForbiddenError, NotFoundError
from kimgraph.events.log import EventRecord
from kimgraph.models.aspirations import AspirationStatus
from kimgraph.regions.codes import is_within, validate
from kimgraph.regions.queries import require_region


def scoped_region(principal: Principal, region: str | None) -> str:
    """The region a signed-in viewer asked for, or its whole scope without one."""
    enforce(principal, Action.ASPIRATION_READ)
    code = validate(region if region is not None else str(principal.region_code))
    if not in_scope(principal, code):
        raise ForbiddenError(
            f"region {code} lies outside your region {principal.region_code}"
        )
    return code


async def aspiration_by_ticket(ticket: str) -> models.Aspiration | None:
    """The aspiration with this ticket (any case, spaces around), or None."""
    return await models.Aspiration.get_or_none(ticket=normalize_ticket(ticket))


@dataclass(frozen=True, slots=True)
class AspirationFilter:
    """The arguments of `aspirations(…)`, already checked against the viewer."""

    region: str
    statuses: tuple[AspirationStatus, ...] = ()
    kim_id: int | None = None
    # Only overdue ones (True), only the others (False), or all (None), at `now`.
    overdue: bool | None = None
    now: datetime | None = None

    def queryset(self) -> QuerySet[models.Aspiration]:
        """Matching aspirations (unordered)."""
        query = models.Aspiration.filter(
            Q(region_id=self.region) | Q(region_id__startswith=self.region + ".")
        )
        if self.statuses:
            query = query.filter(status__in=list(self.statuses))
        if self.kim_id is not None:
            query = query.filter(kim_id=self.kim_id)
        if self.overdue is not None:
            late = overdue_at(self.now)
            query = query.filter(late if self.overdue else ~late)
        return query


def overdue_at(now: datetime | None) -> Q:
    """Overdue at now, as `Aspiration.overdue` says: open, and dueAt before now."""
    if now is None:
        raise ValueError("an overdue filter needs the time")
    # IS NOT NULL keeps the negation (overdue: false) from being NULL for rows
    # without a deadline, which would drop them.
    return Q(due_at__isnull=False, due_at__lt=now, status__in=list(OPEN_STATES))


async def aspiration_page(
    where: AspirationFilter, after_id: int | None, limit: int
) -> tuple[list[models.Aspiration], bool, int]:
    """A page, newest first; whether more follow; the total."""
    query = where.queryset()
    total = await query.count()
    if after_id is not None:
        query = query.filter(id__lt=after_id)
    rows = await query.order_by("-id").limit(limit + 1)
    return rows[:limit], len(rows) > limit, total


async def aspirations_by_ids(ids: Sequence[int]) -> dict[int, models.Aspiration]:
    """The aspirations among ids that exist, keyed by id."""
    return {a.id: a for a in await models.Aspiration.filter(id__in=list(ids))}


async def history_by_ids(
    ids: Sequence[int],
) -> dict[int, list[models.AspirationTransition]]:
    """Each aspiration's transitions, oldest first."""
    grouped: dict[int, list[models.AspirationTransition]] = {i: [] for i in ids}
    rows = await models.AspirationTransition.filter(
        aspiration_id__in=list(ids)
    ).order_by("id")
    for row in rows:
        grouped[row.aspiration_id].append(row)
    return grouped


async def responses_by_ids(
    ids: Sequence[int],
) -> dict[int, list[models.AspirationResponse]]:
    """Each aspiration's responses, oldest first."""
    grouped: dict[int, list[models.AspirationResponse]] = {i: [] for i in ids}
    rows = await models.AspirationResponse.filter(aspiration_id__in=list(ids)).order_by(
        "id"
    )
    for row in rows:
        grouped[row.aspiration_id].append(row)
    return grouped


@dataclass(frozen=True, slots=True)
class Snapshot:
    """An aspiration as an event shows it, loaded once for every subscriber.

    It holds personal data and internal notes like the row does; the resolver
    decides per subscriber what of it is shown, and never the personal data.
    """

    aspiration: models.Aspiration
    history: tuple[models.AspirationTransition, ...]
    responses: tuple[models.AspirationResponse, ...]
    # What this event recorded: its transition, or its response.
    transition: models.AspirationTransition | None
    response: models.AspirationResponse | None


async def prepare_events(events: Sequence[EventRecord]) -> dict[int, object]:
    """Load the aspirations of a batch of events in three queries."""
    ids = list({event.entity_id for event in events})
    rows = await aspirations_by_ids(ids)
    history = await history_by_ids(ids)
    responses = await responses_by_ids(ids)
    transitions = {t.event_id: t for steps in history.values() for t in steps}
    answers = {r.event_id: r for found in responses.values() for r in found}
    return {
        event.id: Snapshot(
            rows[event.entity_id],
            tuple(history[event.entity_id]),
            tuple(responses[event.entity_id]),
            transitions.get(event.id),
            answers.get(event.id),
        )
        for event in events
        if event.entity_id in rows
    }


@dataclass(frozen=True, slots=True)
class Following:
    """What one aspirationEvents subscription follows, checked against its caller."""

    principal: Principal
    region: str | None
    aspiration_id: int | None
    by_ticket: bool

    def accepts(self, event: EventRecord) -> bool:
        """Whether an event is about what is followed (before access per subscriber)."""
        if event.stream != STREAM:
            return False
        if self.aspiration_id is not None and event.entity_id != self.aspiration_id:
            return False
        return self.region is None or any(
            is_within(code, self.region) for code in event.regions
        )

    def access(self, row: models.Aspiration) -> Access | None:
        """What the subscriber sees of an aspiration in an event; None: nothing."""
        access = access_for(self.principal, row)
        if access is None and self.by_ticket:
            access = public_access(row)
        return access.for_events() if access is not None else None


async def following(
    principal: Principal,
    region: str | None,
    aspiration_id: int | None,
    ticket: str | None,
) -> Following:
    """Check the arguments of aspirationEvents; anyone may follow by ticket.

    aspiration_id 0 stands for an id given but not one of an aspiration.
    """
    code = validate(region) if region is not None else None
    if code is not None:
        await require_region(code)
    if ticket is not None:
        row = await aspiration_by_ticket(ticket)
        if row is None:
            raise NotFoundError("there is no aspiration with this ticket")
        if aspiration_id is not None and aspiration_id != row.id:
            raise NotFoundError("aspirationId and ticket name different aspirations")
        return Following(principal, code, row.id, by_ticket=True)
    enforce(principal, Action.ASPIRATION_READ)
    if aspiration_id is not None:
        found = await models.Aspiration.get_or_none(id=aspiration_id)
        if found is None or access_for(principal, found) is None:
            raise NotFoundError("there is no such aspiration")
        return Following(principal, code, found.id, by_ticket=False)
    return Following(principal, scoped_region(principal, code), None, by_ticket=False)
