"""Account lifecycle: list, deactivate, reactivate, reset or change a password, role.

Each command takes the acting principal, or None for the operator at the
command line, who may act on every account. The rules are in
docs/operations.md, "Accounts".
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from kimgraph import audit, models
from kimgraph.accounts.auth import (
    MIN_PASSWORD_LENGTH,
    TOKEN_TTL,
    account_principal,
    hash_password,
    issue_account_token,
    password_matches,
)
from kimgraph.accounts.authorization import Action, enforce, in_scope
from kimgraph.accounts.principals import ACCOUNT_ROLES, Principal, Role
from kimgraph.accounts.sign_in import SignInThrottle
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

# 16 bytes: 22 characters of base64url, well past MIN_PASSWORD_LENGTH.
ONE_TIME_PASSWORD_BYTES = 16


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


async def _target(
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


async def _revoke_tokens(clock: Clock, account_id: int) -> list[int]:
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
    account = await _target(principal, account_id)
    async with in_transaction():
        await _keep_an_admin(account, "deactivated")
        was_active = account.is_active
        if account.is_active:
            account.is_active = False
            account.deactivated_at = clock.now()
            await account.save(update_fields=["is_active", "deactivated_at"])
        revoked = await _revoke_tokens(clock, account.id)
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
    account = await _target(principal, account_id)
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


async def reset_password(
    clock: Clock, principal: Principal | None, account_id: int | None
) -> tuple[Changed, str]:
    """A new one-time password; the owner must replace it before anything else."""
    account = await _target(principal, account_id)
    password = secrets.token_urlsafe(ONE_TIME_PASSWORD_BYTES)
    account.password_hash = await hash_password(password)
    account.must_change_password = True
    async with in_transaction():
        await account.save(update_fields=["password_hash", "must_change_password"])
        revoked = await _revoke_tokens(clock, account.id)
        await audit.record(
            None,
            principal,
            audit.AuditAction.ACCOUNT_PASSWORD_RESET,
            audit.target("Account", account.id),
            {"revokedSessions": len(revoked)},
            at=clock.now(),
        )
    return Changed(account, revoked), password


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
    account = await _target(principal, account_id)
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
        revoked = await _revoke_tokens(clock, account.id)
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


@dataclass(frozen=True, slots=True)
class PasswordChanged:
    """accountPasswordChange's result: the revoked tokens and a new token."""

    account: models.Account
    revoked_token_ids: list[int]
    token: str
    expires_at: datetime


async def change_password(
    clock: Clock,
    principal: Principal,
    *,
    username: str | None,
    current_password: str,
    new_password: str,
    throttle: SignInThrottle | None = None,
    client: str = "unknown",
) -> PasswordChanged:
    """Replace one's own password, proven by the current one; counted like sign-in."""
    if principal.api_key_id is not None:
        raise ForbiddenError("a PARTNER caller may not change an account password")
    if principal.username is not None:
        if username is not None and username != principal.username:
            raise invalid(
                "signed in, you may change only your own password",
                "input",
                "username",
            )
        username = principal.username
    if username is None:
        raise invalid(
            "give the username, or sign in to change your own password",
            "input",
            "username",
        )
    if len(new_password) < MIN_PASSWORD_LENGTH:
        raise invalid(
            f"password must have at least {MIN_PASSWORD_LENGTH} characters",
            "input",
            "newPassword",
        )
    if new_password == current_password:
        raise invalid(
            "the new password must differ from the current one",
            "input",
            "newPassword",
        )
    taken = await throttle.attempt(client, username) if throttle else None
    account = await models.Account.get_or_none(username=username, is_active=True)
    if not await password_matches(account, current_password):
        raise UserInputError(
            Problem(
                ProblemCode.INVALID_CREDENTIALS,
                "wrong username or password",
                ["input", "currentPassword"],
            )
        )
    assert account is not None
    if throttle is not None and taken is not None:
        await throttle.succeeded(taken)
    account.password_hash = await hash_password(new_password)
    account.must_change_password = False
    async with in_transaction():
        await account.save(update_fields=["password_hash", "must_change_password"])
        revoked = await _revoke_tokens(clock, account.id)
        token, row = await issue_account_token(clock, account, TOKEN_TTL)
        await audit.record(
            None,
            account_principal(account, row.id),
            audit.AuditAction.ACCOUNT_PASSWORD_CHANGE,
            audit.target("Account", account.id),
            {"revokedSessions": len(revoked)},
            at=row.created_at,
        )
    return PasswordChanged(account, revoked, token, row.expires_at)
