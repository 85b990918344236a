"""Account types: the viewer, roles, tokens and partner API keys."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Self

import strawberry

from kimgraph import models
from kimgraph.accounts.principals import Principal
from kimgraph.context import Info
from kimgraph.cursors import encode_id
from schema.common import Node, UserError, user_errors_field
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
