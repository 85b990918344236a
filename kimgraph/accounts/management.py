"""Account lifecycle: list, deactivate, reactivate, change the role.

Passwords (an operator's reset, the owner's change) are in
kimgraph.accounts.passwords, which shares target_account and revoke_tokens.

Each command takes the acting principal, or None for the operator at the
command line, who may act on every account. The rules are in
docs/operations.md, "Accounts".
"""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from kimgraph import audit, models
from kimgraph.accounts.authorization import Action, enforce, in_scope
from kimgraph.accounts.principals import ACCOUNT_ROLES, Principal, Role
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


@dataclass(frozen=True, slots=True)
class AccountFilter:
    """The arguments of `accounts(role, region, active)`; None matches any."""

    role: Role | None = None
    region: str | None = None
    active: bool | None = None


@dataclass(frozen=True, slots=True)
class Changed:
    """An account after a command, and the tokens the command revoked."""

    account: models.Account
    revoked_token_ids: list[int]


def _within(code: str) -> Q:
    return Q(region_id=code) | Q(region_id__startswith=code + ".")


async def account_page(
    principal: Principal | None,
    where: AccountFilter,
    after_id: int | None,
    limit: int,
) -> tuple[list[models.Account], bool, int]:
    """Up to `limit` accounts after `after_id` in id order; more?; the total."""
    query = models.Account.all()
    if principal is not None:
        enforce(principal, Action.ACCOUNT_MANAGE)
        region = validate(
            where.region if where.region is not None else str(principal.region_code)
        )
        if not in_scope(principal, region):
            raise ForbiddenError(
                f"region {region} lies outside your region {principal.region_code}"
            )
        query = query.filter(_within(region))
    elif where.region is not None:
        query = query.filter(_within(validate(where.region)))
    if where.region is not None:
        await require_region(where.region)
    if where.role is not None:
        query = query.filter(role=where.role)
    if where.active is not None:
        query = query.filter(is_active=where.active)
    total = await query.count()
    if after_id is not None:
        query = query.filter(id__gt=after_id)
    rows = await query.order_by("id").limit(limit + 1)
    return rows[:limit], len(rows) > limit, total


async def target_account(
    principal: Principal | None, account_id: int | None
) -> models.Account:
    """The account a command acts on, checked against the actor's scope."""
    if principal is not None:
        enforce(principal, Action.ACCOUNT_MANAGE)
    account = (
        await models.Account.get_or_none(id=account_id)
        if account_id is not None
        else None
    )
    if account is None:
        raise not_found("there is no such account", "id")
    if principal is not None:
        enforce(principal, Action.ACCOUNT_MANAGE, account.region_id, ("id",))
    return account


async def revoke_tokens(clock: Clock, account_id: int) -> list[int]:
    """Revoke every usable token of the account; their ids."""
    ids = [
        row.id
        for row in await models.AccessToken.filter(
            account_id=account_id, revoked_at=None
        ).only("id")
    ]
    if ids:
        await models.AccessToken.filter(id__in=ids, revoked_at=None).update(
            revoked_at=clock.now()
        )
    return ids


async def _keep_an_admin(account: models.Account, action: str) -> None:
    """Refuse to leave no active ADMIN; call inside the command's transaction."""
    if account.role is not Role.ADMIN or not account.is_active:
        return
    # Every active ADMIN row is locked (on PostgreSQL), in id order: two
    # ADMINs removing each other at once then run one after the other, and the
    # second sees the first's change.
    admins = (
        await models.Account.filter(role=Role.ADMIN, is_active=True)
        .order_by("id")
        .select_for_update()
        .only("id")
    )
    others = [row.id for row in admins if row.id != account.id]
    if not others:
        raise invalid(
            f"{account.username} is the last active ADMIN and cannot be {action}; "
            "make another account ADMIN first",
            "id",
        )


async def deactivate(
    clock: Clock, principal: Principal | None, account_id: int | None
) -> Changed:
    """Deactivate an account and revoke its tokens (again is harmless)."""
    account = await target_account(principal, account_id)
    async with in_transaction():
        await _keep_an_admin(account, "deactivated")
        was_active = account.is_active
        if account.is_active:
            account.is_active = False
            account.deactivated_at = clock.now()
            await account.save(update_fields=["is_active", "deactivated_at"])
        revoked = await revoke_tokens(clock, account.id)
        await audit.record(
            None,
            principal,
            audit.AuditAction.ACCOUNT_DEACTIVATE,
            audit.target("Account", account.id),
            {"active": [was_active, False], "revokedSessions": len(revoked)},
            at=clock.now(),
        )
    return Changed(account, revoked)


async def reactivate(
    clock: Clock, principal: Principal | None, account_id: int | None
) -> models.Account:
    """Let a deactivated account sign in again; its old tokens stay revoked."""
    account = await target_account(principal, account_id)
    async with in_transaction():
        was_active = account.is_active
        if not account.is_active:
            account.is_active = True
            account.deactivated_at = None
            await account.save(update_fields=["is_active", "deactivated_at"])
        await audit.record(
            None,
            principal,
            audit.AuditAction.ACCOUNT_REACTIVATE,
            audit.target("Account", account.id),
            {"active": [was_active, True]},
            at=clock.now(),
        )
    return account


def no_such_kim() -> UserInputError:
    """The error of a KIM reference that names no KIM."""
    return not_found("there is no such KIM", "input", "kim")


@dataclass(frozen=True, slots=True)
class RoleChange:
    """accountRoleChange's input; None keeps the account's current value."""

    role: Role | None = None
    region: str | None = None
    kim_id: int | None = None
    kim_given: bool = False


async def change_role(
    clock: Clock,
    principal: Principal | None,
    account_id: int | None,
    change: RoleChange,
) -> Changed:
    """Change role, scope or KIM; the account's tokens are revoked if any changed."""
    account = await target_account(principal, account_id)
    role = change.role if change.role is not None else account.role
    problems: list[Problem] = []
    if role not in ACCOUNT_ROLES:
        problems.append(
            Problem(
                ProblemCode.INVALID,
                f"accounts cannot have role {role}",
                ["input", "role"],
            )
        )
    kim_id = change.kim_id if change.kim_given else account.kim_id
    kim = None
    if role is Role.KIM:
        if kim_id is None:
            problems.append(
                Problem(
                    ProblemCode.INVALID, "a KIM account needs its KIM", ["input", "kim"]
                )
            )
        else:
            kim = await models.Kim.get_or_none(id=kim_id)
            if kim is None:
                problems.extend(no_such_kim().problems)
    elif change.kim_given and change.kim_id is not None:
        problems.append(
            Problem(
                ProblemCode.INVALID,
                "only a KIM account is linked to a KIM",
                ["input", "kim"],
            )
        )
    region = change.region if change.region is not None else account.region_id
    if kim is not None:
        if change.region is not None and change.region != kim.region_id:
            problems.append(
                Problem(
                    ProblemCode.INVALID,
                    f"a KIM account's region is its KIM's region {kim.region_id}",
                    ["input", "region"],
                )
            )
        region = kim.region_id
    if not await models.Region.exists(code=validate(region)):
        problems.append(
            Problem(
                ProblemCode.NOT_FOUND,
                f"there is no region with code {region}",
                ["input", "region"],
            )
        )
    elif principal is not None:
        enforce(principal, Action.ACCOUNT_MANAGE, region, ("input", "region"))
    if problems:
        raise UserInputError(*problems)
    new_kim = kim.id if kim is not None else None
    if (role, region, new_kim) == (account.role, account.region_id, account.kim_id):
        return Changed(account, [])
    before = {"role": str(account.role), "region": account.region_id}
    async with in_transaction():
        if role is not Role.ADMIN:
            await _keep_an_admin(account, "demoted")
        account.role = role
        account.region_id = region
        account.kim_id = new_kim
        await account.save(update_fields=["role", "region_id", "kim_id"])
        # A socket keeps the principal it opened with: sign in again as the new role.
        revoked = await revoke_tokens(clock, account.id)
        await audit.record(
            None,
            principal,
            audit.AuditAction.ACCOUNT_ROLE_CHANGE,
            audit.target("Account", account.id),
            {
                "before": before,
                "after": {"role": str(role), "region": region},
                "kim": audit.target("Kim", new_kim).id,
            },
            at=clock.now(),
        )
    return Changed(account, revoked)
