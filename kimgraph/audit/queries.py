"""Reading the audit trail: ADMIN's pages and the operator's export, newest first."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime

from tortoise.queryset import QuerySet

from kimgraph import models
from kimgraph.accounts.authorization import Action, enforce
from kimgraph.accounts.principals import Principal
from kimgraph.audit.actions import AuditAction

EXPORT_BATCH = 500


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """auditLog's filters; None matches any. `start` is inclusive, `end` not."""

    actor: str | None = None
    action: AuditAction | None = None
    target_id: str | None = None
    start: datetime | None = None
    end: datetime | None = None


def _query(where: AuditFilter) -> QuerySet[models.AuditEntry]:
    query = models.AuditEntry.all()
    if where.actor is not None:
        query = query.filter(actor=where.actor)
    if where.action is not None:
        query = query.filter(action=where.action.value)
    if where.target_id is not None:
        query = query.filter(target_id=where.target_id)
    if where.start is not None:
        query = query.filter(occurred_at__gte=where.start)
    if where.end is not None:
        query = query.filter(occurred_at__lt=where.end)
    return query


async def page(
    principal: Principal, where: AuditFilter, before_id: int | None, limit: int
) -> tuple[list[models.AuditEntry], bool, int]:
    """Up to `limit` rows older than `before_id`, newest first; more?; the total."""
    enforce(principal, Action.AUDIT_READ)
    query = _query(where)
    total = await query.count()
    if before_id is not None:
        query = query.filter(id__lt=before_id)
    rows = await query.order_by("-id").limit(limit + 1)
    return rows[:limit], len(rows) > limit, total


async def export(where: AuditFilter) -> AsyncIterator[models.AuditEntry]:
    """Every matching row, oldest first, read in batches (for the command line)."""
    after = 0
    while True:
        rows = (
            await _query(where).filter(id__gt=after).order_by("id").limit(EXPORT_BATCH)
        )
        for row in rows:
            yield row
        if len(rows) < EXPORT_BATCH:
            return
        after = rows[-1].id
