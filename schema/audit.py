"""The audit trail as ADMIN reads it (docs/audit.md)."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Self

import strawberry

from kimgraph import models
from kimgraph.audit import AuditAction as DomainAction
from kimgraph.audit import actor_global_id
from kimgraph.cursors import CursorKind, encode_cursor
from schema.accounts import Role
from schema.common import Connection, connection


def _value(action: DomainAction, description: str) -> Any:
    return strawberry.enum_value(action, description=f"`{action}`: {description}")


# Each value is kimgraph.audit's AuditAction member, whose dotted name is what
# `kimgraph audit export` writes; a test keeps the two lists equal.
@strawberry.enum(description="What an audit entry records (docs/audit.md).")
class AuditAction(enum.Enum):
    ANNOUNCEMENT_PUBLISH = _value(DomainAction.ANNOUNCEMENT_PUBLISH, "published.")
    ANNOUNCEMENT_UPDATE = _value(DomainAction.ANNOUNCEMENT_UPDATE, "edited.")
    ANNOUNCEMENT_WITHDRAW = _value(DomainAction.ANNOUNCEMENT_WITHDRAW, "withdrawn.")
    ANNOUNCEMENT_RELAY = _value(DomainAction.ANNOUNCEMENT_RELAY, "relayed.")
    KIM_REGISTER = _value(DomainAction.KIM_REGISTER, "a KIM registered.")
    KIM_UPDATE = _value(DomainAction.KIM_UPDATE, "a KIM's details changed.")
    KIM_MEMBER_ADD = _value(DomainAction.KIM_MEMBER_ADD, "a KIM member added.")
    KIM_MEMBER_REMOVE = _value(DomainAction.KIM_MEMBER_REMOVE, "a member removed.")
    ACCOUNT_CREATE = _value(DomainAction.ACCOUNT_CREATE, "an account created.")
    ACCOUNT_DEACTIVATE = _value(DomainAction.ACCOUNT_DEACTIVATE, "deactivated.")
    ACCOUNT_REACTIVATE = _value(DomainAction.ACCOUNT_REACTIVATE, "reactivated.")
    ACCOUNT_PASSWORD_RESET = _value(
        DomainAction.ACCOUNT_PASSWORD_RESET, "a one-time password given."
    )
    ACCOUNT_ROLE_CHANGE = _value(
        DomainAction.ACCOUNT_ROLE_CHANGE, "role, scope or KIM changed."
    )
    ACCOUNT_PASSWORD_CHANGE = _value(
        DomainAction.ACCOUNT_PASSWORD_CHANGE, "the owner set a new password."
    )
    ASPIRATION_MODERATE = _value(
        DomainAction.ASPIRATION_MODERATE, "an aspiration hidden or shown again."
    )
    ASPIRATION_REPORTER_KEY_REISSUE = _value(
        DomainAction.ASPIRATION_REPORTER_KEY_REISSUE,
        "a new reporter key issued for an aspiration, the old one revoked; the "
        "summary has the reason and whether a key was replaced, never a key.",
    )
    UNIT_CREATE = _value(DomainAction.UNIT_CREATE, "a unit (OPD) created.")
    UNIT_UPDATE = _value(DomainAction.UNIT_UPDATE, "a unit renamed.")
    UNIT_ARCHIVE = _value(DomainAction.UNIT_ARCHIVE, "a unit archived.")
    UNIT_MEMBER_ADD = _value(
        DomainAction.UNIT_MEMBER_ADD, "an OFFICER account added to a unit."
    )
    UNIT_MEMBER_REMOVE = _value(
        DomainAction.UNIT_MEMBER_REMOVE, "an account removed from a unit."
    )
    ACCOUNT_OFFICE_SET = _value(
        DomainAction.ACCOUNT_OFFICE_SET, "an account's office named, or derived again."
    )
    WEBHOOK_CREATE = _value(DomainAction.WEBHOOK_CREATE, "a webhook registered.")
    WEBHOOK_UPDATE = _value(
        DomainAction.WEBHOOK_UPDATE,
        "a webhook's URL or streams changed, or its secret rotated.",
    )
    WEBHOOK_DISABLE = _value(DomainAction.WEBHOOK_DISABLE, "a webhook disabled.")
    WEBHOOK_ENABLE = _value(DomainAction.WEBHOOK_ENABLE, "a webhook enabled again.")
    WEBHOOK_DELETE = _value(DomainAction.WEBHOOK_DELETE, "a webhook removed.")
    API_KEY_CREATE = _value(DomainAction.API_KEY_CREATE, "a partner API key made.")
    API_KEY_REVOKE = _value(DomainAction.API_KEY_REVOKE, "a partner API key revoked.")
    WARNING_REVIEW_PUBLISH = _value(
        DomainAction.WARNING_REVIEW_PUBLISH, "a BMKG warning published after review."
    )
    WARNING_REVIEW_DISMISS = _value(
        DomainAction.WARNING_REVIEW_DISMISS, "a BMKG warning dismissed."
    )
    SIGN_IN = _value(DomainAction.SIGN_IN, "a token issued for a password.")
    SIGN_IN_FAILURE = _value(
        DomainAction.SIGN_IN_FAILURE, "a wrong username or password."
    )
    SIGN_OUT = _value(DomainAction.SIGN_OUT, "a token revoked by its holder.")

    @property
    def domain(self) -> DomainAction:
        """The kimgraph action this value stands for."""
        return DomainAction(self.value)


@strawberry.enum(description="What kind of actor an audit entry names.")
class AuditActorKind(enum.Enum):
    ACCOUNT = strawberry.enum_value("account", description="A signed-in account.")
    API_KEY = strawberry.enum_value("api_key", description="A partner API key.")
    SYSTEM = strawberry.enum_value(
        "system", description="The operator at the command line, or the server."
    )


@strawberry.type(
    description="One state-changing action: who, as what role, when, what, on "
    "which object. Entries are never changed or deleted (docs/audit.md)."
)
class AuditEntry:
    occurred_at: datetime = strawberry.field(description="When it happened.")
    actor_kind: AuditActorKind = strawberry.field(description="What kind of actor.")
    actor: str = strawberry.field(
        description="The account's username, the API key's name, or `system`."
    )
    actor_id: strawberry.ID | None = strawberry.field(
        description="Global id of the Account or ApiKey; null for `system`."
    )
    role: Role | None = strawberry.field(
        description="The actor's role then; null for the command line."
    )
    action: AuditAction = strawberry.field(description="What was done.")
    target_type: str = strawberry.field(
        description="GraphQL type name of the object acted on, e.g. `Announcement`."
    )
    target_id: strawberry.ID | None = strawberry.field(
        description="Global id of the object acted on (it may since be gone); null "
        "when there is none, as for a sign-in with an unknown username."
    )
    summary: str = strawberry.field(
        description="What changed, as a short JSON object; never a password, "
        "token, key or reporter's personal data."
    )

    @classmethod
    def from_model(cls, row: models.AuditEntry) -> Self:
        """This type filled from an audit row."""
        actor_id = actor_global_id(row)
        return cls(
            occurred_at=row.occurred_at,
            actor_kind=AuditActorKind(row.actor_kind),
            actor=row.actor,
            actor_id=strawberry.ID(actor_id) if actor_id is not None else None,
            role=Role[row.role] if row.role is not None else None,
            action=AuditAction[DomainAction(row.action).name],
            target_type=row.target_type,
            target_id=strawberry.ID(row.target_id) if row.target_id else None,
            summary=row.summary,
        )

    @classmethod
    def connection_of(
        cls, rows: Sequence[models.AuditEntry], has_next_page: bool, total: int
    ) -> Connection[Self]:
        """A page of audit rows, newest first, as a connection."""
        return connection(
            rows,
            has_next_page,
            total,
            cursor=lambda row: encode_cursor(CursorKind.AUDIT, row.id),
            node=cls.from_model,
        )
