"""Passwords of accounts: an operator's reset, the owner's change.

A reset gives a one-time password that works only to set a new one; a change
is proven by the current password, counted like a sign-in, and answers with a
new token. Both revoke the account's tokens (kimgraph.accounts.management).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

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
from kimgraph.accounts.management import Changed, revoke_tokens, target_account
from kimgraph.accounts.principals import Principal
from kimgraph.accounts.sign_in import SignInThrottle
from kimgraph.clock import Clock
from kimgraph.errors import (
    ForbiddenError,
    Problem,
    ProblemCode,
    UserInputError,
    invalid,
)

# 16 bytes: 22 characters of base64url, well past MIN_PASSWORD_LENGTH.
ONE_TIME_PASSWORD_BYTES = 16


async def reset_password(
    clock: Clock, principal: Principal | None, account_id: int | None
) -> tuple[Changed, str]:
    """A new one-time password; the owner must replace it before anything else."""
    account = await target_account(principal, account_id)
    password = secrets.token_urlsafe(ONE_TIME_PASSWORD_BYTES)
    account.password_hash = await hash_password(password)
    account.must_change_password = True
    async with in_transaction():
        await account.save(update_fields=["password_hash", "must_change_password"])
        revoked = await revoke_tokens(clock, account.id)
        await audit.record(
            None,
            principal,
            audit.AuditAction.ACCOUNT_PASSWORD_RESET,
            audit.target("Account", account.id),
            {"revokedSessions": len(revoked)},
            at=clock.now(),
        )
    return Changed(account, revoked), password


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
        revoked = await revoke_tokens(clock, account.id)
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
