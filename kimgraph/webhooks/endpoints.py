"""Registering and managing webhook endpoints; ADMIN only (docs/webhooks.md).

A new endpoint starts at the event log's current position: it is told of
what happens from its registration on, not of the past. Each change writes
its audit row in its own transaction, never with the secret (docs/audit.md).
The secret is stored encrypted (docs/webhooks.md, "The secret at rest").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from kimgraph import audit, models
from kimgraph.accounts.authorization import Action, enforce
from kimgraph.accounts.principals import Principal
from kimgraph.clock import Clock
from kimgraph.errors import NotFoundError, UserInputError, invalid, not_found
from kimgraph.events import log
from kimgraph.models import DeliveryStatus, WebhookStatus
from kimgraph.pii.fields import SealedSecret
from kimgraph.webhooks.addresses import RefusedAddress, resolve
from kimgraph.webhooks.signing import new_secret

# The most endpoints in all: the `webhooks` list is answered whole.
MAX_ENDPOINTS = 100


@dataclass(frozen=True, slots=True)
class Registered:
    """An endpoint, and its signing secret when it was just made (shown once)."""

    endpoint: models.WebhookEndpoint
    secret: str | None = None


async def _checked_url(url: str, allow_local: bool) -> str:
    url = url.strip()
    try:
        await resolve(url, allow_local)
    except RefusedAddress as refused:
        raise invalid(str(refused), "input", "url") from None
    return url


def audited_url(url: str) -> str:
    """The URL as the audit trail keeps it: scheme, host, port and path.

    A query string (where receivers often put a token) and any user name,
    password or fragment are left out (docs/audit.md, "No secrets").
    """
    parts = urlsplit(url)
    return urlunsplit(
        (parts.scheme, parts.netloc.rpartition("@")[2], parts.path, "", "")
    )


async def _record(
    conn: BaseDBAsyncClient,
    clock: Clock,
    principal: Principal,
    action: audit.AuditAction,
    row: models.WebhookEndpoint,
    summary: Mapping[str, object],
) -> None:
    await audit.record(
        conn,
        principal,
        action,
        audit.target("Webhook", row.id),
        summary,
        at=clock.now(),
    )


async def _endpoint(
    principal: Principal, endpoint_id: int | None
) -> models.WebhookEndpoint:
    enforce(principal, Action.WEBHOOK_MANAGE)
    found = (
        await models.WebhookEndpoint.get_or_none(id=endpoint_id)
        if endpoint_id is not None
        else None
    )
    if found is None:
        raise not_found("there is no such webhook", "id")
    return found


async def create(
    clock: Clock,
    principal: Principal,
    api_key_id: int | None,
    url: str,
    announcements: bool,
    allow_local: bool,
) -> Registered:
    """Register a URL for a partner key; the secret is returned this once."""
    enforce(principal, Action.WEBHOOK_MANAGE)
    key = (
        await models.ApiKey.get_or_none(id=api_key_id)
        if api_key_id is not None
        else None
    )
    if key is None or key.revoked_at is not None:
        raise not_found(
            "there is no such API key (or it is revoked)", "input", "apiKeyId"
        )
    url = await _checked_url(url, allow_local)
    if await models.WebhookEndpoint.all().count() >= MAX_ENDPOINTS:
        raise invalid(f"there are already {MAX_ENDPOINTS} webhooks", "input")
    now = clock.now()
    secret = new_secret()
    async with in_transaction() as conn:
        row = await models.WebhookEndpoint.create(
            api_key_id=key.id,
            url=url,
            secret=SealedSecret.of(secret),
            announcements=announcements,
            status=WebhookStatus.ACTIVE,
            position=await log.position(),
            created_at=now,
            lease_until=now,
            using_db=conn,
        )
        await _record(
            conn,
            clock,
            principal,
            audit.AuditAction.WEBHOOK_CREATE,
            row,
            {
                "partner": key.name,
                "url": audited_url(url),
                "announcements": announcements,
            },
        )
    return Registered(row, secret)


async def update(
    clock: Clock,
    principal: Principal,
    endpoint_id: int | None,
    url: str | None,
    announcements: bool | None,
    rotate_secret: bool,
    allow_local: bool,
) -> Registered:
    """Change the URL, the streams or the secret (a new one is returned once).

    The audit row has URL and streams before and after (equal when not
    changed) and whether the secret was rotated, never the secret.
    """
    row = await _endpoint(principal, endpoint_id)
    before = (audited_url(row.url), row.announcements)
    if url is not None:
        row.url = await _checked_url(url, allow_local)
    if announcements is not None:
        row.announcements = announcements
    secret = new_secret() if rotate_secret else None
    if secret is not None:
        row.secret = SealedSecret.of(secret)
    async with in_transaction() as conn:
        await row.save(update_fields=["url", "announcements", "secret"], using_db=conn)
        await _record(
            conn,
            clock,
            principal,
            audit.AuditAction.WEBHOOK_UPDATE,
            row,
            {
                "url": [before[0], audited_url(row.url)],
                "announcements": [before[1], row.announcements],
                "rotated": secret is not None,
            },
        )
    return Registered(row, secret)


async def disable(
    clock: Clock, principal: Principal, endpoint_id: int | None
) -> Registered:
    """Stop delivering; enabling resumes with the first event not delivered."""
    row = await _endpoint(principal, endpoint_id)
    before = WebhookStatus(row.status)
    async with in_transaction() as conn:
        row.status = WebhookStatus.DISABLED
        await row.save(update_fields=["status"], using_db=conn)
        await _record(
            conn,
            clock,
            principal,
            audit.AuditAction.WEBHOOK_DISABLE,
            row,
            {"status": [before, WebhookStatus.DISABLED]},
        )
    return Registered(row)


async def enable(
    clock: Clock, principal: Principal, endpoint_id: int | None
) -> Registered:
    """Deliver again from the first event not delivered, a failed one included."""
    row = await _endpoint(principal, endpoint_id)
    before = WebhookStatus(row.status)
    async with in_transaction() as conn:
        # A failed event is tried again with a new 24-hour window, then the rest.
        retried = (
            await models.WebhookDelivery.filter(
                endpoint_id=row.id, status=DeliveryStatus.FAILED
            )
            .using_db(conn)
            .update(
                status=DeliveryStatus.PENDING,
                first_attempt_at=None,
                next_attempt_at=clock.now(),
            )
        )
        row.status = WebhookStatus.ACTIVE
        await row.save(update_fields=["status"], using_db=conn)
        await _record(
            conn,
            clock,
            principal,
            audit.AuditAction.WEBHOOK_ENABLE,
            row,
            {"status": [before, WebhookStatus.ACTIVE], "retried": retried},
        )
    return Registered(row)


async def delete(clock: Clock, principal: Principal, endpoint_id: int | None) -> int:
    """Remove the endpoint and its delivery log; its id."""
    row = await _endpoint(principal, endpoint_id)
    key = await models.ApiKey.get(id=row.api_key_id).only("id", "name")
    async with in_transaction() as conn:
        await row.delete(using_db=conn)
        await _record(
            conn,
            clock,
            principal,
            audit.AuditAction.WEBHOOK_DELETE,
            row,
            {"partner": key.name, "url": audited_url(row.url)},
        )
    return row.id


async def endpoints(principal: Principal) -> list[models.WebhookEndpoint]:
    """Every endpoint, oldest first."""
    enforce(principal, Action.WEBHOOK_MANAGE)
    return await models.WebhookEndpoint.all().order_by("id")


async def deliveries(
    principal: Principal,
    endpoint_id: int | None,
    status: DeliveryStatus | None,
    after: int | None,
    limit: int,
) -> tuple[list[models.WebhookDelivery], bool, int]:
    """Deliveries newest first, after the id `after`: the page, more?, total.

    A query has no userErrors: an unknown endpoint is a NOT_FOUND error.
    """
    try:
        row = await _endpoint(principal, endpoint_id)
    except UserInputError:
        raise NotFoundError("there is no such webhook") from None
    query = models.WebhookDelivery.filter(endpoint_id=row.id)
    if status is not None:
        query = query.filter(status=status)
    total = await query.count()
    if after is not None:
        query = query.filter(id__lt=after)
    rows = await query.order_by("-id").limit(limit + 1)
    return rows[:limit], len(rows) > limit, total
