"""Accounts, passwords, bearer tokens and partner API keys; secrets kept only hashed.

Partner API keys are made, listed and revoked in kimgraph.accounts.api_keys;
this module tells who a token or key in an Authorization header stands for.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import secrets
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from tortoise.transactions import in_transaction

from kimgraph import audit, models
from kimgraph.accounts.principals import ACCOUNT_ROLES, ANONYMOUS, Principal, Role
from kimgraph.accounts.sign_in import SignInThrottle as SignInThrottle
from kimgraph.clock import Clock
from kimgraph.errors import Problem, ProblemCode, UnauthenticatedError, UserInputError
from kimgraph.regions.codes import validate

TOKEN_PREFIX = "kgt_"
API_KEY_PREFIX = "kgk_"
TOKEN_TTL = timedelta(hours=12)
MIN_PASSWORD_LENGTH = 10
_USERNAME = re.compile(r"[a-z0-9][a-z0-9_.-]{2,63}")
_hasher = PasswordHasher()
# Verified against when the username is unknown, so both cases take as long. Made
# once with _hasher's parameters (a test keeps them equal), not at every import:
# hashing costs ~0.3-0.7 s, and every `kimgraph` process would pay it. Which
# password it hashes does not matter: an unknown username never signs in.
_DUMMY_HASH = (
    "$argon2id$v=19$m=65536,t=3,p=4$PuXLd4ioMH5fFOG/dp1V/g"
    "$XKBWkrdUASxD0F77+otf6ByPNiTzzQMtn+TwXuus3/8"
)


class InvalidCredentials(UnauthenticatedError):
    """A bearer token or API key that is malformed, unknown, expired or revoked."""


def digest(secret: str) -> str:
    """The stored form of a token or API key: they are random, so SHA-256 suffices."""
    return hashlib.sha256(secret.encode()).hexdigest()


async def hash_password(password: str) -> str:
    """An argon2id hash; computed off the event loop."""
    return await asyncio.to_thread(_hasher.hash, password)


async def verify_password(password_hash: str, password: str) -> bool:
    """True if password matches; computed off the event loop."""

    def check() -> bool:
        try:
            return _hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(check)


async def check_region(region_code: str, problems: list[Problem]) -> None:
    """Add a NOT_FOUND problem (field `region`) if no region has this code."""
    if not await models.Region.exists(code=validate(region_code)):
        problems.append(
            Problem(
                ProblemCode.NOT_FOUND,
                f"there is no region with code {region_code}",
                ["region"],
            )
        )


async def create_account(
    clock: Clock,
    *,
    username: str,
    password: str,
    role: Role,
    region_code: str | None,
    kim_id: int | None = None,
    display_name: str | None = None,
) -> models.Account:
    """A new account; UserInputError lists every bad argument."""
    problems: list[Problem] = []
    if not _USERNAME.fullmatch(username):
        problems.append(
            Problem(
                ProblemCode.INVALID,
                "username must be 3-64 characters of a-z, 0-9, '_', '.' or '-', "
                "starting with a letter or digit",
                ["username"],
            )
        )
    elif await models.Account.exists(username=username):
        problems.append(
            Problem(
                ProblemCode.INVALID, f"username {username!r} is taken", ["username"]
            )
        )
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(
            Problem(
                ProblemCode.INVALID,
                f"password must have at least {MIN_PASSWORD_LENGTH} characters",
                ["password"],
            )
        )
    if role not in ACCOUNT_ROLES:
        problems.append(
            Problem(ProblemCode.INVALID, f"accounts cannot have role {role}", ["role"])
        )
    kim = None
    if role is Role.KIM:
        if kim_id is None:
            problems.append(
                Problem(ProblemCode.INVALID, "a KIM account needs its KIM", ["kim"])
            )
        else:
            kim = await models.Kim.get_or_none(id=kim_id)
            if kim is None:
                problems.append(
                    Problem(ProblemCode.NOT_FOUND, f"no KIM has id {kim_id}", ["kim"])
                )
    elif kim_id is not None:
        problems.append(
            Problem(
                ProblemCode.INVALID, "only a KIM account is linked to a KIM", ["kim"]
            )
        )
    if kim is not None:
        if region_code is not None and region_code != kim.region_id:
            problems.append(
                Problem(
                    ProblemCode.INVALID,
                    f"a KIM account's region is its KIM's region {kim.region_id}",
                    ["region"],
                )
            )
        region_code = kim.region_id
    if region_code is None:
        problems.append(
            Problem(ProblemCode.INVALID, "a region is required", ["region"])
        )
    else:
        await check_region(region_code, problems)
    if problems:
        raise UserInputError(*problems)
    assert region_code is not None
    password_hash = await hash_password(password)
    async with in_transaction() as conn:
        account = await models.Account.create(
            username=username,
            display_name=display_name or username,
            password_hash=password_hash,
            role=role,
            region_id=region_code,
            kim_id=kim.id if kim is not None else None,
            created_at=clock.now(),
            using_db=conn,
        )
        await audit.record(
            conn,
            None,
            audit.AuditAction.ACCOUNT_CREATE,
            audit.target("Account", account.id),
            {"username": username, "role": str(role), "region": region_code},
            at=account.created_at,
        )
    return account


async def issue_token(
    clock: Clock,
    username: str,
    password: str,
    ttl: timedelta = TOKEN_TTL,
    *,
    throttle: SignInThrottle | None = None,
    client: str = "unknown",
) -> tuple[str, models.AccessToken]:
    """A new bearer token for these credentials; the clear token is returned once.

    With a throttle, the attempt is counted first, and refused (RATE_LIMITED)
    before the password is checked when an allowance is spent.
    """
    taken = await throttle.attempt(client, username) if throttle else None
    account = await models.Account.get_or_none(username=username, is_active=True)
    if not await password_matches(account, password):
        # Written on its own: nothing changed. The typed username is kept only
        # when it names an account: it may be a password typed in the wrong box.
        await audit.record(
            None,
            None if account is None else account_principal(account),
            audit.AuditAction.SIGN_IN_FAILURE,
            audit.target("Account", account.id if account else None),
            {"client": client},
            at=clock.now(),
        )
        raise UserInputError(
            Problem(ProblemCode.INVALID_CREDENTIALS, "wrong username or password", None)
        )
    assert account is not None
    if throttle is not None and taken is not None:
        await throttle.succeeded(taken)
    if account.must_change_password:
        raise UserInputError(
            Problem(
                ProblemCode.PASSWORD_CHANGE_REQUIRED,
                "this password was reset and works only to set a new one: call "
                "accountPasswordChange with it as currentPassword",
                ["input", "password"],
            )
        )
    async with in_transaction() as conn:
        token, row = await issue_account_token(clock, account, ttl)
        await audit.record(
            conn,
            account_principal(account, row.id),
            audit.AuditAction.SIGN_IN,
            audit.target("Account", account.id),
            {"client": client},
            at=row.created_at,
        )
    return token, row


async def password_matches(account: models.Account | None, password: str) -> bool:
    """True if the account exists and password is its password; as slow either way."""
    matches = await verify_password(
        account.password_hash if account is not None else _DUMMY_HASH, password
    )
    return account is not None and matches


async def issue_account_token(
    clock: Clock, account: models.Account, ttl: timedelta = TOKEN_TTL
) -> tuple[str, models.AccessToken]:
    """A new bearer token of an account whose password was checked; shown once."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = clock.now()
    row = await models.AccessToken.create(
        account=account, token_hash=digest(token), created_at=now, expires_at=now + ttl
    )
    return token, row


async def revoke_token(clock: Clock, token_id: int) -> bool:
    """Revoke a token; False if it was already revoked."""
    now = clock.now()
    async with in_transaction() as conn:
        row = await models.AccessToken.get(id=token_id, using_db=conn).select_related(
            "account"
        )
        updated = (
            await models.AccessToken.filter(id=token_id, revoked_at=None)
            .using_db(conn)
            .update(revoked_at=now)
        )
        if updated:
            await audit.record(
                conn,
                account_principal(row.account, token_id),
                audit.AuditAction.SIGN_OUT,
                audit.target("Account", row.account.id),
                {},
                at=now,
            )
    return bool(updated)


_BEARER = re.compile(r"bearer\s+(\S+)", re.IGNORECASE)


async def authenticate(clock: Clock, authorization: str | None) -> Principal:
    """The principal an Authorization value stands for; anonymous if there is none."""
    if authorization is None or not authorization.strip():
        return ANONYMOUS
    match = _BEARER.fullmatch(authorization.strip())
    if match is None:
        raise InvalidCredentials(
            "credentials must be given as 'Bearer <token or API key>'"
        )
    secret = match.group(1)
    if secret.startswith(TOKEN_PREFIX):
        return await _token_principal(clock, secret)
    if secret.startswith(API_KEY_PREFIX):
        return await _api_key_principal(secret)
    raise InvalidCredentials("the bearer credential is not a KIMgraph token or API key")


async def _token_principal(clock: Clock, token: str) -> Principal:
    row = await models.AccessToken.get_or_none(token_hash=digest(token)).select_related(
        "account"
    )
    if (
        row is None
        or row.revoked_at is not None
        or not row.account.is_active
        or row.account.must_change_password
    ):
        raise InvalidCredentials("the token is unknown or revoked; sign in again")
    if row.expires_at <= clock.now():
        raise InvalidCredentials("the token has expired; sign in again")
    units: frozenset[int] = frozenset()
    if row.account.role is Role.OFFICER:
        # One indexed query, for officers only (docs/domain.md, "Units").
        units = frozenset(
            member.unit_id
            for member in await models.UnitMember.filter(
                account_id=row.account.id, unit__archived_at__isnull=True
            ).only("unit_id")
        )
    return account_principal(row.account, token_id=row.id, unit_ids=units)


def account_principal(
    account: models.Account,
    token_id: int | None = None,
    unit_ids: frozenset[int] = frozenset(),
) -> Principal:
    """Who an account is, signed in with the token `token_id` if given."""
    return Principal(
        role=account.role,
        region_code=account.region_id,
        display_name=account.display_name,
        account_id=account.id,
        username=account.username,
        kim_id=account.kim_id,
        token_id=token_id,
        unit_ids=unit_ids,
    )


async def _api_key_principal(key: str) -> Principal:
    row = await models.ApiKey.get_or_none(key_hash=digest(key))
    if row is None or row.revoked_at is not None:
        raise InvalidCredentials("the API key is unknown or revoked")
    return Principal(
        role=Role.PARTNER,
        region_code=row.region_id,
        display_name=row.name,
        api_key_id=row.id,
    )
