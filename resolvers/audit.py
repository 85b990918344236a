"""auditLog: the audit trail for ADMIN, newest first."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from kimgraph.audit.queries import AuditFilter, page
from kimgraph.clock import to_utc
from kimgraph.context import Info
from kimgraph.cursors import CursorKind, decode_cursor, row_id
from kimgraph.errors import InvalidArgumentError
from schema.audit import AuditAction, AuditEntry
from schema.common import DEFAULT_PAGE_SIZE, After, Connection, First, page_size


def _instant(value: datetime | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        return to_utc(value)
    except ValueError as error:
        raise InvalidArgumentError(f"{name} {error}") from None


@strawberry.type
class AuditQueries:
    @strawberry.field(
        description="The audit trail (ADMIN only; FORBIDDEN to others), newest "
        "first: every state-changing action with its actor, role, time and target "
        "(docs/audit.md). Filters combine."
    )
    async def audit_log(
        self,
        info: Info,
        actor: Annotated[
            str | None,
            strawberry.argument(
                description="Only this actor: a username, an API key's name, or "
                "`system`."
            ),
        ] = None,
        action: Annotated[
            AuditAction | None, strawberry.argument(description="Only this action.")
        ] = None,
        target_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="Only actions on the object of this id."),
        ] = None,
        from_: Annotated[
            datetime | None,
            strawberry.argument(
                name="from", description="Only at or after this instant."
            ),
        ] = None,
        to: Annotated[
            datetime | None,
            strawberry.argument(description="Only before this instant."),
        ] = None,
        first: First = DEFAULT_PAGE_SIZE,
        after: After = None,
    ) -> Connection[AuditEntry]:
        rows, has_next, total = await page(
            info.context.principal,
            AuditFilter(
                actor=actor,
                action=action.domain if action is not None else None,
                target_id=target_id,
                start=_instant(from_, "from"),
                end=_instant(to, "to"),
            ),
            decode_cursor(CursorKind.AUDIT, after, row_id),
            page_size(first),
        )
        return AuditEntry.connection_of(rows, has_next, total)
