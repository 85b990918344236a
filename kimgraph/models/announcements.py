"""Announcements (pengumuman) and the regions each is targeted at."""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from kimgraph.models.accounts import Account
    from kimgraph.models.kims import Kim
    from kimgraph.models.regions import Region


class AnnouncementCategory(enum.StrEnum):
    """What an announcement is about."""

    GENERAL = "GENERAL"
    GOVERNMENT = "GOVERNMENT"
    HEALTH = "HEALTH"
    EDUCATION = "EDUCATION"
    ECONOMY = "ECONOMY"
    AGRICULTURE = "AGRICULTURE"
    INFRASTRUCTURE = "INFRASTRUCTURE"
    SOCIAL = "SOCIAL"
    SECURITY = "SECURITY"
    DISASTER = "DISASTER"
    EVENT = "EVENT"


class AnnouncementPriority(enum.IntEnum):
    """How urgent an announcement is; the value orders lists (highest first)."""

    NORMAL = 0
    IMPORTANT = 1
    EMERGENCY = 2


class Announcement(Model):
    """Information published for one or more regions and everything below them."""

    id = fields.IntField(primary_key=True)
    title = fields.CharField(max_length=200)
    body = fields.TextField()
    category = fields.CharEnumField(AnnouncementCategory, max_length=16)
    priority = fields.IntEnumField(AnnouncementPriority)
    kim: fields.ForeignKeyNullableRelation[Kim] = fields.ForeignKeyField(
        "models.Kim", related_name="announcements", null=True, on_delete=fields.RESTRICT
    )
    kim_id: int | None
    publisher: fields.ForeignKeyNullableRelation[Account] = fields.ForeignKeyField(
        "models.Account",
        related_name="announcements",
        null=True,
        on_delete=fields.SET_NULL,
    )
    publisher_id: int | None
    published_by = fields.CharField(max_length=200)
    valid_from = fields.DatetimeField(db_index=True)
    valid_until = fields.DatetimeField(null=True)
    withdrawn_at = fields.DatetimeField(null=True)
    withdraw_reason = fields.CharField(max_length=500, null=True)
    revision = fields.IntField(default=1)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "announcement"
        indexes = (("priority", "valid_from", "id"),)


class AnnouncementTarget(Model):
    """One region an announcement is published for (relays add more)."""

    id = fields.IntField(primary_key=True)
    announcement: fields.ForeignKeyRelation[Announcement] = fields.ForeignKeyField(
        "models.Announcement", related_name="targets", on_delete=fields.CASCADE
    )
    announcement_id: int
    region: fields.ForeignKeyRelation[Region] = fields.ForeignKeyField(
        "models.Region", related_name="announcement_targets", on_delete=fields.RESTRICT
    )
    region_id: str
    relayed_by = fields.CharField(max_length=200, null=True)
    added_at = fields.DatetimeField()

    class Meta:
        table = "announcement_target"
        unique_together = (("announcement", "region"),)
        indexes = (("region_id", "announcement_id"),)
