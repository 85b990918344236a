"""What every change of an existing announcement shares: finding it, the revision.

Finding: an announcement the caller may not read (a scheduled one, see
visibility.py) is answered exactly as an id that names none, so no mutation
tells who may not know that it exists.

The revision (docs/domain.md): every change writes `revision = read + 1` with
`WHERE revision = read`, so no two changes can both add 1 to the same
revision. On PostgreSQL the UPDATE also locks the row until the transaction
ends, so the changes of one announcement run one after the other from there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from kimgraph import models
from kimgraph.accounts.authorization import Action, enforce, in_scope
from kimgraph.accounts.principals import Principal, Role
from kimgraph.announcements.visibility import Reader
from kimgraph.errors import Problem, ProblemCode, UserInputError, not_found
from kimgraph.events import log

# A lost race means another change committed meanwhile; this many in a row
# while one request waits would take a flood of changes to one announcement.
MAX_ATTEMPTS = 20


@dataclass(frozen=True, slots=True)
class Found:
    """An existing announcement the caller may read, with its targets."""

    row: models.Announcement
    # Every target code, relays included, in the order they were added.
    targets: list[str]
    # The targets it was published for (not relayed).
    original: list[str]


async def readable(
    principal: Principal, announcement_id: int | None, now: datetime
) -> Found:
    """The announcement, if principal may read it; NOT_FOUND (field `id`) if not."""
    row = (
        await models.Announcement.get_or_none(id=announcement_id)
        if announcement_id is not None
        else None
    )
    rows = (
        await models.AnnouncementTarget.filter(announcement_id=row.id)
        .order_by("id")
        .values_list("region_id", "relayed_by")
        if row is not None
        else []
    )
    targets = [str(code) for code, _ in rows]
    if row is None or not Reader.of(principal).may_read(row, targets, now):
        raise not_found("there is no such announcement", "id")
    original = [str(code) for code, relayed_by in rows if relayed_by is None]
    return Found(row, targets, original)


async def managed(
    principal: Principal, announcement_id: int | None, now: datetime
) -> Found:
    """The announcement, if principal published it or governs all its targets."""
    enforce(principal, Action.ANNOUNCEMENT_PUBLISH)
    found = await readable(principal, announcement_id, now)
    row = found.row
    if principal.role is Role.KIM:
        allowed = row.kim_id is not None and row.kim_id == principal.kim_id
    else:
        allowed = all(in_scope(principal, code) for code in found.original)
    if not allowed:
        raise UserInputError(
            Problem(
                ProblemCode.OUT_OF_SCOPE,
                "only its publisher or an office over all its targets may change it",
                ["id"],
            )
        )
    return found


async def bump(
    tx: log.Transaction,
    row: models.Announcement,
    values: dict[str, object],
    still_applies: Callable[[models.Announcement], None],
) -> None:
    """Write values and revision + 1 on the revision last read; row is refreshed.

    If another change committed first, row is read again and still_applies
    raises the userError the change now gets (or returns: then it is made on
    the new revision). For changes without expectedRevision: relay, withdraw.
    """
    for _ in range(MAX_ATTEMPTS):
        changed = (
            await models.Announcement.filter(id=row.id, revision=row.revision)
            .using_db(tx.conn)
            .update(revision=row.revision + 1, **values)
        )
        await row.refresh_from_db(using_db=tx.conn)
        if changed:
            return
        still_applies(row)
    raise conflict(row.revision, None)


def conflict(current: int, expected: int | None) -> UserInputError:
    """The CONFLICT of a change that lost to others; nothing was changed."""
    if expected is None:
        return UserInputError(
            Problem(
                ProblemCode.CONFLICT,
                f"the announcement kept changing (now at revision {current}): "
                "try again",
                ["id"],
            )
        )
    return UserInputError(
        Problem(
            ProblemCode.CONFLICT,
            f"the announcement is at revision {current}, not {expected}: reload it "
            "and try again",
            ["input", "expectedRevision"],
        )
    )
