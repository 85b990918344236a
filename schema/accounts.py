"""Account types: the viewer, roles, tokens and partner API keys."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import datetime
from typing import Self

import strawberry

from kimgraph import models
from kimgraph.accounts.offices import derived_office
from kimgraph.accounts.principals import Principal
from kimgraph.accounts.principals import Role as DomainRole
from kimgraph.context import Info
from kimgraph.cursors import CursorKind, encode_cursor, encode_id
from schema.common import (
    Connection,
    Node,
    UserError,
    connection,
    user_errors_field,
)
from schema.kims import Kim, load_kim
from schema.regions import Region, load_region, region_of


@strawberry.enum(description="What kind of caller someone is.")
class Role(enum.Enum):
    ADMIN = strawberry.enum_value(
        "ADMIN", description="Diskominfo: everything within its kabupaten."
    )
    OFFICER = strawberry.enum_value(
        "OFFICER", description="Kecamatan, desa/kelurahan or OPD staff: its subtree."
    )
    KIM = strawberry.enum_value(
        "KIM", description="A KIM's officers: its KIM's region."
    )
    PARTNER = strawberry.enum_value(
        "PARTNER", description="A partner app's API key: read its region, never PII."
    )


@strawberry.type(description="Who the current caller is and where it may act.")
class Viewer:
    principal: strawberry.Private[Principal]

    @strawberry.field(description="The caller's role.")
    def role(self) -> Role:
        assert self.principal.role is not None, "anonymous callers have no Viewer"
        return Role[self.principal.role.name]

    @strawberry.field(description="Account username; null for an API key.")
    def username(self) -> str | None:
        return self.principal.username

    @strawberry.field(description="Display name of the account or the API key.")
    def display_name(self) -> str:
        return self.principal.display_name

    @strawberry.field(description="The region whose subtree is the caller's scope.")
    async def scope(self, info: Info) -> Region | None:
        return await load_region(info, self.principal.region_code)

    @strawberry.field(description="The KIM a KIM account acts for; null otherwise.")
    async def kim(self, info: Info) -> Kim | None:
        return await load_kim(info, self.principal.kim_id)


@strawberry.type(description="A partner app's API key; the key itself is never shown.")
class ApiKey(Node):
    key: strawberry.Private[int]
    region_code: strawberry.Private[str]
    name: str = strawberry.field(description="The partner app's name.")
    prefix: str = strawberry.field(
        description="The key's first characters, to tell keys apart."
    )
    created_at: datetime = strawberry.field(description="When it was created.")
    revoked_at: datetime | None = strawberry.field(
        description="When it was revoked; null while it works."
    )

    @strawberry.field(description="Opaque global id.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(encode_id("ApiKey", self.key))

    @strawberry.field(description="The region whose subtree the key may read.")
    async def region(self, info: Info) -> Region:
        return await region_of(info, self.region_code)

    @classmethod
    def from_model(cls, row: models.ApiKey) -> Self:
        """This type filled from a key row."""
        return cls(
            key=row.id,
            region_code=row.region_id,
            name=row.name,
            prefix=row.prefix,
            created_at=row.created_at,
            revoked_at=row.revoked_at,
        )


@strawberry.input(description="Credentials of an account.")
class TokenCreateInput:
    username: str = strawberry.field(description="The account's username.")
    password: str = strawberry.field(description="The account's password.")


@strawberry.type(description="The result of tokenCreate.")
class TokenCreatePayload:
    token: str | None = strawberry.field(
        default=None,
        description="Bearer token for `Authorization: Bearer <token>`; shown only "
        "now. Null if userErrors is not empty.",
    )
    expires_at: datetime | None = strawberry.field(
        default=None, description="When the token stops working."
    )
    user_errors: list[UserError] = user_errors_field("Why no token was issued.")


@strawberry.type(description="The result of tokenRevoke.")
class TokenRevokePayload:
    revoked: bool = strawberry.field(
        default=False, description="True if the token was revoked now."
    )
    closed_connections: int = strawberry.field(
        default=0, description="How many live WebSocket connections it closed."
    )
    user_errors: list[UserError] = user_errors_field("Why nothing was revoked.")


@strawberry.type(
    description="An account that signs in (ADMIN, OFFICER or KIM); its password "
    "and tokens are never shown."
)
class Account(Node):
    key: strawberry.Private[int]
    region_code: strawberry.Private[str]
    kim_key: strawberry.Private[int | None]
    username: str = strawberry.field(description="The name it signs in with.")
    display_name: str = strawberry.field(description="The name shown for it.")
    role: Role = strawberry.field(description="Its role: ADMIN, OFFICER or KIM.")
    active: bool = strawberry.field(
        description="False once deactivated: it cannot sign in and its tokens are "
        "revoked."
    )
    must_change_password: bool = strawberry.field(
        description="True after a password reset, until the owner sets a new "
        "password with accountPasswordChange; no token is issued meanwhile."
    )
    created_at: datetime = strawberry.field(description="When it was created.")
    deactivated_at: datetime | None = strawberry.field(
        description="When it was deactivated; null while active."
    )
    named_office: strawberry.Private[str | None] = None

    @strawberry.field(description="Opaque global id; pass it to `node(id:)`.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(encode_id("Account", self.key))

    @strawberry.field(
        description="The office it speaks for, shown as `publishedBy` of its "
        "announcements: the one an ADMIN named (accountOfficeSet), else derived "
        "from its unit, role and region (its one unit's name, \"Kantor Kecamatan "
        'Delta Pawan", "Diskominfo Kabupaten Ketapang", a KIM\'s name; '
        'docs/domain.md, "Offices").'
    )
    async def office(self) -> str:
        if self.named_office:
            return self.named_office
        role = DomainRole(self.role.name)
        return await derived_office(role, self.region_code, self.kim_key, self.key)

    @strawberry.field(description="The region whose subtree is its scope.")
    async def scope(self, info: Info) -> Region:
        return await region_of(info, self.region_code)

    @strawberry.field(description="The KIM a KIM account acts for; null otherwise.")
    async def kim(self, info: Info) -> Kim | None:
        return await load_kim(info, self.kim_key)

    @classmethod
    def from_model(cls, row: models.Account) -> Self:
        """This type filled from an account row."""
        return cls(
            key=row.id,
            region_code=row.region_id,
            kim_key=row.kim_id,
            username=row.username,
            display_name=row.display_name,
            role=Role[row.role.name],
            active=row.is_active,
            must_change_password=row.must_change_password,
            created_at=row.created_at,
            deactivated_at=row.deactivated_at,
            named_office=row.office,
        )

    @classmethod
    def connection_of(
        cls, rows: Sequence[models.Account], has_next_page: bool, total: int
    ) -> Connection[Self]:
        """A page of account rows, in id order, as a connection."""
        return connection(
            rows,
            has_next_page,
            total,
            cursor=lambda row: encode_cursor(CursorKind.ACCOUNT, row.id),
            node=cls.from_model,
        )


@strawberry.type(description="The result of accountDeactivate.")
class AccountDeactivatePayload:
    account: Account | None = strawberry.field(
        default=None, description="The account, now inactive; null on userErrors."
    )
    closed_connections: int = strawberry.field(
        default=0,
        description="How many of its WebSocket connections this server closed at "
        "once; other server processes close theirs within the credential-check "
        "interval.",
    )
    user_errors: list[UserError] = user_errors_field("Why nothing changed.")


@strawberry.type(description="The result of accountReactivate.")
class AccountReactivatePayload:
    account: Account | None = strawberry.field(
        default=None, description="The account, active again; null on userErrors."
    )
    user_errors: list[UserError] = user_errors_field("Why nothing changed.")


@strawberry.type(description="The result of accountOfficeSet.")
class AccountOfficeSetPayload:
    account: Account | None = strawberry.field(
        default=None, description="The account; null on userErrors."
    )
    user_errors: list[UserError] = user_errors_field("Why nothing changed.")


@strawberry.type(description="The result of accountPasswordReset.")
class AccountPasswordResetPayload:
    account: Account | None = strawberry.field(
        default=None, description="The account; null on userErrors."
    )
    one_time_password: str | None = strawberry.field(
        default=None,
        description="The new password, shown only now: give it to the owner, who "
        "must replace it with accountPasswordChange before anything else. Null on "
        "userErrors.",
    )
    closed_connections: int = strawberry.field(
        default=0,
        description="How many of its WebSocket connections this server closed.",
    )
    user_errors: list[UserError] = user_errors_field("Why nothing changed.")


@strawberry.input(
    description="A new role, scope or KIM for an account; an omitted or null field "
    "keeps its current value."
)
class AccountRoleChangeInput:
    role: Role | None = strawberry.field(
        default=None, description="ADMIN, OFFICER or KIM."
    )
    region: str | None = strawberry.field(
        default=None,
        description="Code of the region whose subtree becomes its scope; a KIM "
        "account's region is always its KIM's.",
    )
    kim: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET,
        description="The KIM a KIM account acts for (required for role KIM).",
    )


@strawberry.type(description="The result of accountRoleChange.")
class AccountRoleChangePayload:
    account: Account | None = strawberry.field(
        default=None, description="The account as changed; null on userErrors."
    )
    closed_connections: int = strawberry.field(
        default=0,
        description="How many of its WebSocket connections this server closed.",
    )
    user_errors: list[UserError] = user_errors_field("Why nothing changed.")


@strawberry.input(description="A new password for one's own account.")
class AccountPasswordChangeInput:
    username: str | None = strawberry.field(
        default=None,
        description="The account's username; needed only without a token (after "
        "a reset, when tokenCreate answered PASSWORD_CHANGE_REQUIRED).",
    )
    current_password: str = strawberry.field(
        description="The current (or one-time) password."
    )
    new_password: str = strawberry.field(
        description="The new password: at least 10 characters, not the current one."
    )


@strawberry.type(description="The result of accountPasswordChange.")
class AccountPasswordChangePayload:
    token: str | None = strawberry.field(
        default=None,
        description="A new bearer token (every older token of the account is "
        "revoked); shown only now. Null if userErrors is not empty.",
    )
    expires_at: datetime | None = strawberry.field(
        default=None, description="When the token stops working."
    )
    user_errors: list[UserError] = user_errors_field("Why the password is unchanged.")
