"""Writing the audit trail: one row per action, in the transaction of its change.

The rules (who counts as the actor, what a summary may hold, retention) are in
docs/audit.md; callers outside this package use record() and target() only.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from tortoise.backends.base.client import BaseDBAsyncClient

from kimgraph import models
from kimgraph.accounts.principals import Principal
from kimgraph.audit.actions import ActorKind, AuditAction
from kimgraph.cursors import encode_id

SYSTEM = ActorKind.SYSTEM.value
# Summary keys that could carry a secret or a reporter's personal data. A
# summary naming one is a bug in its caller, refused before anything is written.
FORBIDDEN_WORDS = ("password", "token", "hash", "secret", "key", "reporter", "contact")


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acted: an account, an API key, or the system (the command line)."""

    kind: str
    id: int | None
    name: str
    role: str | None


@dataclass(frozen=True, slots=True)
class Target:
    """What was acted on: its GraphQL type name and global id ("" for none)."""

    type: str
    id: str


def target(type_name: str, key: object | None) -> Target:
    """The target of type type_name with row key `key`; None: no such object."""
    return Target(type_name, "" if key is None else encode_id(type_name, key))


_ACTOR_TYPES = {ActorKind.ACCOUNT.value: "Account", ActorKind.API_KEY.value: "ApiKey"}


def actor_global_id(row: models.AuditEntry) -> str | None:
    """The global id of a row's Account or ApiKey actor; None for the system."""
    type_name = _ACTOR_TYPES.get(row.actor_kind)
    if type_name is None or row.actor_id is None:
        return None
    return encode_id(type_name, row.actor_id)


def actor_of(principal: Principal | None) -> Actor:
    """The actor of a principal; None is the operator at the command line."""
    if principal is None:
        return Actor(SYSTEM, None, SYSTEM, None)
    role = str(principal.role) if principal.role is not None else None
    if principal.account_id is not None:
        name = principal.username or principal.display_name
        return Actor(ActorKind.ACCOUNT, principal.account_id, name, role)
    if principal.api_key_id is not None:
        return Actor(
            ActorKind.API_KEY, principal.api_key_id, principal.display_name, role
        )
    return Actor(SYSTEM, None, SYSTEM, role)


def _checked(summary: Mapping[str, object]) -> str:
    for name in summary:
        if any(word in name.casefold() for word in FORBIDDEN_WORDS):
            raise ValueError(f"an audit summary may not hold {name!r}")
    return json.dumps(summary, sort_keys=True, ensure_ascii=False, default=str)


async def record(
    conn: BaseDBAsyncClient | None,
    actor: Principal | Actor | None,
    action: AuditAction,
    target: Target,
    summary: Mapping[str, object],
    *,
    at: datetime,
) -> None:
    """Insert the audit row of an action, on conn: the transaction of the change.

    conn None means the current `in_transaction()` block (Tortoise routes to
    it); outside one, the row commits on its own (only sign-in failures,
    which change nothing, are written so). `at` is the injected clock's now.
    """
    who = actor if isinstance(actor, Actor) else actor_of(actor)
    await models.AuditEntry.create(
        occurred_at=at,
        actor_kind=who.kind,
        actor_id=who.id,
        actor=who.name[:100],
        role=who.role,
        action=action.value,
        target_type=target.type,
        target_id=target.id,
        summary=_checked(summary),
        using_db=conn,
    )
