"""Units (perangkat daerah / OPD): the offices aspirations are disposed to."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from kimgraph.models.accounts import Account
    from kimgraph.models.regions import Region


class Unit(Model):
    """An OPD or office that handles the aspirations disposed to it."""

    # It serves the aspirations of its region's subtree (docs/domain.md, "Units").

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=200)
    region: fields.ForeignKeyRelation[Region] = fields.ForeignKeyField(
        "models.Region", related_name="units", on_delete=fields.RESTRICT
    )
    region_id: str
    created_at = fields.DatetimeField()
    # An archived unit keeps its name on old aspirations and takes no new ones.
    archived_at = fields.DatetimeField(null=True)

    class Meta:
        table = "unit"
        unique_together = (("region_id", "name"),)


class UnitMember(Model):
    """An OFFICER account that acts as a unit (an account may be in several)."""

    id = fields.IntField(primary_key=True)
    unit: fields.ForeignKeyRelation[Unit] = fields.ForeignKeyField(
        "models.Unit", related_name="members", on_delete=fields.CASCADE
    )
    unit_id: int
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="unit_memberships", on_delete=fields.CASCADE
    )
    account_id: int
    added_at = fields.DatetimeField()

    class Meta:
        table = "unit_member"
        unique_together = (("unit_id", "account_id"),)
        indexes = (("account_id",),)
