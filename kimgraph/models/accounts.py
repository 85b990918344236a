"""Accounts, their access tokens, and partner API keys; secrets stored only hashed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

from kimgraph.accounts.principals import Role

if TYPE_CHECKING:
    from kimgraph.models.kims import Kim
    from kimgraph.models.regions import Region


class Account(Model):
    """A person who signs in: a Diskominfo admin, an officer, or an officer of a KIM."""

    id = fields.IntField(primary_key=True)
    username = fields.CharField(max_length=64, unique=True)
    display_name = fields.CharField(max_length=200)
    password_hash = fields.CharField(max_length=255)
    role = fields.CharEnumField(Role, max_length=8)
    region: fields.ForeignKeyRelation[Region] = fields.ForeignKeyField(
        "models.Region", related_name="accounts", on_delete=fields.RESTRICT
    )
    region_id: str
    kim: fields.ForeignKeyNullableRelation[Kim] = fields.ForeignKeyField(
        "models.Kim", related_name="accounts", null=True, on_delete=fields.RESTRICT
    )
    kim_id: int | None
    is_active = fields.BooleanField(default=True)
    # Set by a password reset: no token is issued until the owner picks a new
    # password with accountPasswordChange (docs/operations.md, "Accounts").
    must_change_password = fields.BooleanField(default=False)
    deactivated_at = fields.DatetimeField(null=True)
    # The office it publishes for; NULL: derived (kimgraph.accounts.offices).
    office = fields.CharField(max_length=200, null=True)
    created_at = fields.DatetimeField()

    class Meta:
        table = "account"


class AccessToken(Model):
    """A bearer token issued by tokenCreate, stored only as its SHA-256."""

    id = fields.IntField(primary_key=True)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="tokens", on_delete=fields.CASCADE
    )
    account_id: int
    token_hash = fields.CharField(max_length=64, unique=True)
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "access_token"


class ApiKey(Model):
    """An API key of a partner app, limited to a region and stored only hashed."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=100)
    region: fields.ForeignKeyRelation[Region] = fields.ForeignKeyField(
        "models.Region", related_name="api_keys", on_delete=fields.RESTRICT
    )
    region_id: str
    key_hash = fields.CharField(max_length=64, unique=True)
    # The first characters of the key, shown in listings to tell keys apart.
    prefix = fields.CharField(max_length=16)
    created_at = fields.DatetimeField()
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "api_key"
