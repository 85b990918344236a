"""Partner API keys: made (shown once, only their hash kept), listed and revoked.

A key authenticates as a PARTNER principal of its region (kimgraph.accounts.auth
reads it from the Authorization header); each change is audited.
"""

from __future__ import annotations

import secrets

from tortoise.transactions import in_transaction

from kimgraph import audit, models
from kimgraph.accounts.auth import API_KEY_PREFIX, check_region, digest
from kimgraph.clock import Clock
from kimgraph.errors import Problem, ProblemCode, UserInputError
from kimgraph.regions.codes import is_within


async def create_api_key(
    clock: Clock, name: str, region_code: str
) -> tuple[str, models.ApiKey]:
    """A new partner API key; the clear key is returned once and never stored."""
    name = name.strip()
    problems = []
    if not 1 <= len(name) <= 100:
        problems.append(
            Problem(ProblemCode.INVALID, "name must have 1-100 characters", ["name"])
        )
    await check_region(region_code, problems)
    if problems:
        raise UserInputError(*problems)
    key = API_KEY_PREFIX + secrets.token_urlsafe(32)
    async with in_transaction() as conn:
        row = await models.ApiKey.create(
            name=name,
            region_id=region_code,
            key_hash=digest(key),
            prefix=key[:10],
            created_at=clock.now(),
            using_db=conn,
        )
        await audit.record(
            conn,
            None,
            audit.AuditAction.API_KEY_CREATE,
            audit.target("ApiKey", row.id),
            {"name": name, "region": region_code},
            at=row.created_at,
        )
    return key, row


async def list_api_keys(within: str | None = None) -> list[models.ApiKey]:
    """Every API key, revoked ones included, optionally only those in a subtree."""
    rows = await models.ApiKey.all().order_by("id")
    return [row for row in rows if within is None or is_within(row.region_id, within)]


async def revoke_api_key(clock: Clock, key_id: int) -> models.ApiKey:
    """Revoke a key (again is harmless); UserInputError if there is no such key."""
    row = await models.ApiKey.get_or_none(id=key_id)
    if row is None:
        raise UserInputError(
            Problem(ProblemCode.NOT_FOUND, f"no API key has id {key_id}", ["id"])
        )
    if row.revoked_at is None:
        row.revoked_at = clock.now()
        async with in_transaction() as conn:
            await row.save(update_fields=["revoked_at"], using_db=conn)
            await audit.record(
                conn,
                None,
                audit.AuditAction.API_KEY_REVOKE,
                audit.target("ApiKey", row.id),
                {"name": row.name},
                at=row.revoked_at,
            )
    return row
