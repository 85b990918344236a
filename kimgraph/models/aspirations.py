"""Aspirations (aspirasi), their insert-only history and their responses."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.models import Model

from kimgraph.pii.fields import PersonalDataField

if TYPE_CHECKING:
    from kimgraph.models.accounts import Account
    from kimgraph.models.kims import Kim
    from kimgraph.models.regions import Region
    from kimgraph.models.units import Unit


class AspirationStatus(enum.StrEnum):
    """Where an aspiration stands in its workflow."""

    SUBMITTED = "SUBMITTED"
    NEEDS_INFO = "NEEDS_INFO"
    VERIFIED = "VERIFIED"
    DISPOSED = "DISPOSED"
    IN_PROGRESS = "IN_PROGRESS"
    RESPONDED = "RESPONDED"
    RESOLVED = "RESOLVED"
    REJECTED = "REJECTED"
    NOT_AUTHORIZED = "NOT_AUTHORIZED"
    DUPLICATE = "DUPLICATE"
    ARCHIVED = "ARCHIVED"
    WITHDRAWN = "WITHDRAWN"


class AspirationCategory(enum.StrEnum):
    """What an aspiration is about."""

    INFRASTRUCTURE = "INFRASTRUCTURE"
    PUBLIC_SERVICE = "PUBLIC_SERVICE"
    HEALTH = "HEALTH"
    EDUCATION = "EDUCATION"
    SOCIAL = "SOCIAL"
    ECONOMY = "ECONOMY"
    AGRICULTURE = "AGRICULTURE"
    ENVIRONMENT = "ENVIRONMENT"
    SECURITY = "SECURITY"
    DISASTER = "DISASTER"
    GOVERNMENT = "GOVERNMENT"
    OTHER = "OTHER"


class AspirationVisibility(enum.StrEnum):
    """Who may read an aspiration's content (never its reporter's personal data)."""

    PUBLIC = "PUBLIC"
    ANONYMOUS = "ANONYMOUS"
    CONFIDENTIAL = "CONFIDENTIAL"


class Aspiration(Model):
    """An aspiration or complaint of a citizen, raised in a desa or kelurahan."""

    id = fields.IntField(primary_key=True)
    ticket = fields.CharField(max_length=32, unique=True)
    title = fields.CharField(max_length=200)
    description = fields.TextField()
    category = fields.CharEnumField(AspirationCategory, max_length=16)
    region: fields.ForeignKeyRelation[Region] = fields.ForeignKeyField(
        "models.Region", related_name="aspirations", on_delete=fields.RESTRICT
    )
    region_id: str
    kim: fields.ForeignKeyNullableRelation[Kim] = fields.ForeignKeyField(
        "models.Kim", related_name="aspirations", null=True, on_delete=fields.RESTRICT
    )
    kim_id: int | None
    status = fields.CharEnumField(AspirationStatus, max_length=16)
    version = fields.IntField(default=1)
    visibility = fields.CharEnumField(AspirationVisibility, max_length=12)
    # Moderation, kept apart from the workflow: hiding never changes the status.
    hidden = fields.BooleanField(default=False)
    hidden_reason = fields.CharField(max_length=500, null=True)
    # The unit's name when disposed to a unit; free text on rows from before units.
    assigned_unit = fields.CharField(max_length=200, null=True)
    unit: fields.ForeignKeyNullableRelation[Unit] = fields.ForeignKeyField(
        "models.Unit", related_name="aspirations", null=True, on_delete=fields.RESTRICT
    )
    unit_id: int | None
    duplicate_of: fields.ForeignKeyNullableRelation[Aspiration] = (
        fields.ForeignKeyField(
            "models.Aspiration",
            related_name="duplicates",
            null=True,
            on_delete=fields.RESTRICT,
        )
    )
    duplicate_of_id: int | None
    due_at = fields.DatetimeField(null=True)
    # Personal data (UU PDP 27/2022): read only through kimgraph.aspirations.access.
    # Encrypted at rest, erased after retention (kimgraph.pii, docs/privacy.md).
    reporter_name = PersonalDataField(null=True)
    reporter_contact = PersonalDataField(null=True)
    # SHA-256 of the reporter key handed out once on submission (issue 13);
    # null on rows from before reporter keys.
    reporter_key_hash = fields.CharField(max_length=64, null=True)
    submitter: fields.ForeignKeyNullableRelation[Account] = fields.ForeignKeyField(
        "models.Account",
        related_name="submitted_aspirations",
        null=True,
        on_delete=fields.SET_NULL,
    )
    submitter_id: int | None
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "aspiration"
        indexes = (("region_id", "id"), ("status", "id"))


class InsertOnly(Model):
    """A model whose rows, once written, are never changed or removed."""

    async def save(
        self,
        using_db: BaseDBAsyncClient | None = None,
        update_fields: Iterable[str] | None = None,
        force_create: bool = False,
        force_update: bool = False,
    ) -> None:
        if self._saved_in_db or force_update:
            raise TypeError(f"{type(self).__name__} rows are insert-only")
        await super().save(using_db, update_fields, force_create, force_update)

    async def delete(self, using_db: BaseDBAsyncClient | None = None) -> None:
        raise TypeError(f"{type(self).__name__} rows are insert-only")

    class Meta:
        abstract = True


class AspirationTransition(InsertOnly):
    """One step of an aspiration through its workflow, submission included."""

    id = fields.IntField(primary_key=True)
    aspiration: fields.ForeignKeyRelation[Aspiration] = fields.ForeignKeyField(
        "models.Aspiration", related_name="transitions", on_delete=fields.RESTRICT
    )
    aspiration_id: int
    # The event this step logged, so an event can show its own from, to and note.
    event_id = fields.BigIntField(null=True, db_index=True)
    from_status = fields.CharEnumField(AspirationStatus, max_length=16, null=True)
    to_status = fields.CharEnumField(AspirationStatus, max_length=16)
    capacity = fields.CharField(max_length=16)
    actor: fields.ForeignKeyNullableRelation[Account] = fields.ForeignKeyField(
        "models.Account",
        related_name="aspiration_transitions",
        null=True,
        on_delete=fields.SET_NULL,
    )
    actor_id: int | None
    actor_name = fields.CharField(max_length=200)
    note = fields.TextField(null=True)
    public_note = fields.TextField(null=True)
    assigned_unit = fields.CharField(max_length=200, null=True)
    # The unit disposed to (DISPOSED) or acted for (a unit's step).
    unit: fields.ForeignKeyNullableRelation[Unit] = fields.ForeignKeyField(
        "models.Unit",
        related_name="aspiration_transitions",
        null=True,
        on_delete=fields.RESTRICT,
    )
    unit_id: int | None
    at = fields.DatetimeField()

    class Meta:
        table = "aspiration_transition"
        indexes = (("aspiration_id", "id"),)


class AspirationResponse(InsertOnly):
    """A message about an aspiration: public to the reporter, or internal."""

    id = fields.IntField(primary_key=True)
    aspiration: fields.ForeignKeyRelation[Aspiration] = fields.ForeignKeyField(
        "models.Aspiration", related_name="responses", on_delete=fields.RESTRICT
    )
    aspiration_id: int
    event_id = fields.BigIntField(null=True, db_index=True)
    message = fields.TextField()
    public = fields.BooleanField()
    author: fields.ForeignKeyNullableRelation[Account] = fields.ForeignKeyField(
        "models.Account",
        related_name="aspiration_responses",
        null=True,
        on_delete=fields.SET_NULL,
    )
    author_id: int | None
    author_name = fields.CharField(max_length=200)
    at = fields.DatetimeField()

    class Meta:
        table = "aspiration_response"
        indexes = (("aspiration_id", "id"),)
