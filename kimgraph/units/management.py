"""Managing units: create, rename, archive, members; the units serving a region.

Each command takes the acting principal, or None for the operator at the
command line, who may act on every unit. The rules are in docs/domain.md,
"Units"; each change writes its audit row in its own transaction
(docs/audit.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from kimgraph import audit, models
from kimgraph.accounts.authorization import Action, enforce, in_scope
from kimgraph.accounts.principals import Principal, Role
from kimgraph.aspirations.text import checked_text
from kimgraph.aspirations.workflow import OPEN_STATES
from kimgraph.clock import Clock
from kimgraph.errors import (
    ForbiddenError,
    Problem,
    ProblemCode,
    UserInputError,
    invalid,
    not_found,
)
from kimgraph.regions.codes import validate
from kimgraph.regions.queries import require_region

MAX_NAME = 200
MAX_MEMBERS = 100
"""Members of one unit: an OPD's desk staff, with room to spare (Unit.members)."""


def _ancestors_and_self(code: str) -> list[str]:
    parts = code.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]


def serving(code: str) -> Q:
    """Units that serve aspirations of region code: theirs holds it."""
    return Q(region_id__in=_ancestors_and_self(code))


def _touching(code: str) -> Q:
    """Units serving any part of region code: at it, above it or below it."""
    return serving(code) | Q(region_id__startswith=code + ".")


async def unit_page(
    principal: Principal | None,
    region: str | None,
    after_id: int | None,
    limit: int,
    *,
    archived: bool = False,
) -> tuple[list[models.Unit], bool, int]:
    """Units serving any part of region (the caller's scope without one), by id."""
    query = models.Unit.all() if archived else models.Unit.filter(archived_at=None)
    if principal is not None:
        enforce(principal, Action.SIGNED_IN)
        code = validate(region if region is not None else str(principal.region_code))
        if not in_scope(principal, code):
            raise ForbiddenError(
                f"region {code} lies outside your region {principal.region_code}"
            )
        query = query.filter(_touching(code))
    elif region is not None:
        query = query.filter(_touching(validate(region)))
    if region is not None:
        await require_region(region)
    total = await query.count()
    if after_id is not None:
        query = query.filter(id__gt=after_id)
    rows = await query.order_by("id").limit(limit + 1)
    return rows[:limit], len(rows) > limit, total


async def units_by_ids(ids: Sequence[int]) -> dict[int, models.Unit]:
    """The units among ids that exist, keyed by id."""
    return {u.id: u for u in await models.Unit.filter(id__in=list(ids))}


async def members_by_unit_ids(ids: Sequence[int]) -> dict[int, list[models.Account]]:
    """Each unit's member accounts, in the order they were added."""
    grouped: dict[int, list[models.Account]] = {i: [] for i in ids}
    rows = (
        await models.UnitMember.filter(unit_id__in=list(ids))
        .order_by("id")
        .select_related("account")
    )
    for row in rows:
        grouped[row.unit_id].append(row.account)
    return grouped


async def _unit(principal: Principal | None, unit_id: int | None) -> models.Unit:
    """The unit a command acts on, checked against the actor's scope."""
    if principal is not None:
        enforce(principal, Action.UNIT_MANAGE)
    unit = await models.Unit.get_or_none(id=unit_id) if unit_id is not None else None
    if unit is None:
        raise not_found("there is no such unit", "id")
    if principal is not None:
        enforce(principal, Action.UNIT_MANAGE, unit.region_id, ("id",))
    return unit


async def _free_name(
    name: str, region: str, problems: list[Problem], *, unit_id: int | None = None
) -> None:
    taken = models.Unit.filter(region_id=region, name=name)
    if unit_id is not None:
        taken = taken.exclude(id=unit_id)
    if await taken.exists():
        problems.append(
            Problem(
                ProblemCode.INVALID,
                f"a unit named {name!r} already serves region {region}",
                ["input", "name"],
            )
        )


async def create(
    clock: Clock, principal: Principal | None, name: str, region: str
) -> models.Unit:
    """A new unit serving region's subtree; no members yet."""
    if principal is not None:
        enforce(principal, Action.UNIT_MANAGE)
    problems: list[Problem] = []
    text = checked_text(name, MAX_NAME, "name", problems, required=True)
    code = validate(region)
    if not await models.Region.exists(code=code):
        problems.append(
            Problem(
                ProblemCode.NOT_FOUND,
                f"there is no region with code {code}",
                ["input", "region"],
            )
        )
    elif principal is not None:
        enforce(principal, Action.UNIT_MANAGE, code, ("input", "region"))
    if text is not None:
        await _free_name(text, code, problems)
    if problems:
        raise UserInputError(*problems)
    assert text is not None
    now = clock.now()
    async with in_transaction() as conn:
        unit = await models.Unit.create(
            name=text, region_id=code, created_at=now, using_db=conn
        )
        await audit.record(
            conn,
            principal,
            audit.AuditAction.UNIT_CREATE,
            audit.target("Unit", unit.id),
            {"name": text, "region": code},
            at=now,
        )
    return unit


async def rename(
    clock: Clock, principal: Principal | None, unit_id: int | None, name: str
) -> models.Unit:
    """A new name; aspirations already disposed keep the name they were given.

    The same name again changes nothing but is still recorded, with before
    and after equal, as a repeated reactivation is (docs/audit.md).
    """
    unit = await _unit(principal, unit_id)
    problems: list[Problem] = []
    text = checked_text(name, MAX_NAME, "name", problems, required=True)
    if text is not None:
        await _free_name(text, unit.region_id, problems, unit_id=unit.id)
    if problems:
        raise UserInputError(*problems)
    assert text is not None
    before = unit.name
    async with in_transaction() as conn:
        if text != before:
            unit.name = text
            await unit.save(update_fields=["name"], using_db=conn)
        await audit.record(
            conn,
            principal,
            audit.AuditAction.UNIT_UPDATE,
            audit.target("Unit", unit.id),
            {"name": [before, text]},
            at=clock.now(),
        )
    return unit


async def archive(
    clock: Clock, principal: Principal | None, unit_id: int | None
) -> models.Unit:
    """Take a unit out of use once nothing open is disposed to it; again is harmless.

    Again is recorded too, as {"archived": [true, true]} (docs/audit.md).
    """
    unit = await _unit(principal, unit_id)
    was_archived = unit.archived_at is not None
    if not was_archived:
        open_count = await models.Aspiration.filter(
            unit_id=unit.id, status__in=list(OPEN_STATES)
        ).count()
        if open_count:
            raise invalid(
                f"{open_count} open aspiration{'s are' if open_count != 1 else ' is'} "
                f"disposed to {unit.name}; dispose them to another unit first",
                "id",
            )
    now = clock.now()
    async with in_transaction() as conn:
        if not was_archived:
            unit.archived_at = now
            await unit.save(update_fields=["archived_at"], using_db=conn)
        await audit.record(
            conn,
            principal,
            audit.AuditAction.UNIT_ARCHIVE,
            audit.target("Unit", unit.id),
            {"name": unit.name, "archived": [was_archived, True]},
            at=now,
        )
    return unit


async def _member_account(
    principal: Principal | None, account_id: int | None
) -> models.Account:
    account = (
        await models.Account.get_or_none(id=account_id)
        if account_id is not None
        else None
    )
    if account is None:
        raise not_found("there is no such account", "accountId")
    if principal is not None:
        enforce(principal, Action.UNIT_MANAGE, account.region_id, ("accountId",))
    return account


async def add_member(
    clock: Clock,
    principal: Principal | None,
    unit_id: int | None,
    account_id: int | None,
) -> models.Unit:
    """Let an OFFICER account act as the unit (from its next request on)."""
    unit = await _unit(principal, unit_id)
    account = await _member_account(principal, account_id)
    if unit.archived_at is not None:
        raise invalid(f"{unit.name} is archived", "id")
    if account.role is not Role.OFFICER:
        raise invalid(
            f"only OFFICER accounts belong to units; {account.username} is "
            f"{account.role}",
            "accountId",
        )
    if await models.UnitMember.exists(unit_id=unit.id, account_id=account.id):
        raise invalid(
            f"{account.username} is already a member of {unit.name}", "accountId"
        )
    if await models.UnitMember.filter(unit_id=unit.id).count() >= MAX_MEMBERS:
        raise invalid(f"a unit has at most {MAX_MEMBERS} members", "accountId")
    now = clock.now()
    async with in_transaction() as conn:
        await models.UnitMember.create(
            unit_id=unit.id, account_id=account.id, added_at=now, using_db=conn
        )
        await _record_member(
            conn, principal, audit.AuditAction.UNIT_MEMBER_ADD, unit, account, now
        )
    return unit


async def remove_member(
    clock: Clock,
    principal: Principal | None,
    unit_id: int | None,
    account_id: int | None,
) -> models.Unit:
    """Stop an account acting as the unit (from its next request on)."""
    unit = await _unit(principal, unit_id)
    account = await _member_account(principal, account_id)
    async with in_transaction() as conn:
        removed = (
            await models.UnitMember.filter(unit_id=unit.id, account_id=account.id)
            .using_db(conn)
            .delete()
        )
        if not removed:
            raise invalid(
                f"{account.username} is not a member of {unit.name}", "accountId"
            )
        await _record_member(
            conn,
            principal,
            audit.AuditAction.UNIT_MEMBER_REMOVE,
            unit,
            account,
            clock.now(),
        )
    return unit


async def _record_member(
    conn: BaseDBAsyncClient,
    principal: Principal | None,
    action: audit.AuditAction,
    unit: models.Unit,
    account: models.Account,
    now: datetime,
) -> None:
    """A membership change's row: the unit is the target, the account in the summary."""
    await audit.record(
        conn,
        principal,
        action,
        audit.target("Unit", unit.id),
        {
            "account": audit.target("Account", account.id).id,
            "username": account.username,
        },
        at=now,
    )


@dataclass(frozen=True, slots=True)
class Disposition:
    """Where a disposition sends an aspiration: a unit, or free text before units."""

    unit_id: int | None
    name: str | None


async def disposition(
    region: str, unit_id: int | None, free_text: str | None, problems: list[Problem]
) -> Disposition:
    """Check a disposition's unitId or assignedUnit against the aspiration's region.

    Free text stays allowed only where no unit serves the region yet: a
    kabupaten that has not set up its units keeps working as before.
    """
    if unit_id is not None and free_text is not None:
        problems.append(
            Problem(
                ProblemCode.INVALID,
                "give unitId or assignedUnit, not both",
                ["input", "assignedUnit"],
            )
        )
        return Disposition(None, None)
    if unit_id is not None:
        unit = await models.Unit.get_or_none(id=unit_id, archived_at=None)
        if unit is None:
            problems.append(
                Problem(
                    ProblemCode.NOT_FOUND, "there is no such unit", ["input", "unitId"]
                )
            )
            return Disposition(None, None)
        if not await models.Unit.filter(serving(region), id=unit.id).exists():
            problems.append(
                Problem(
                    ProblemCode.INVALID,
                    f"{unit.name} serves region {unit.region_id}, not {region}",
                    ["input", "unitId"],
                )
            )
        return Disposition(unit.id, unit.name)
    if free_text is not None and (
        await models.Unit.filter(serving(region), archived_at=None).exists()
    ):
        problems.append(
            Problem(
                ProblemCode.INVALID,
                f"units serve region {region}: name one with unitId",
                ["input", "assignedUnit"],
            )
        )
    return Disposition(None, free_text)
