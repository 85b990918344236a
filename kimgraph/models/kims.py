"""KIM: community information groups and their members."""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from kimgraph.models.regions import Region


class KimRole(enum.StrEnum):
    """A member's office in the KIM."""

    KETUA = "KETUA"
    SEKRETARIS = "SEKRETARIS"
    BENDAHARA = "BENDAHARA"
    ANGGOTA = "ANGGOTA"


class Kim(Model):
    """A Kelompok Informasi Masyarakat serving a desa/kelurahan or a kecamatan."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=200)
    region: fields.ForeignKeyRelation[Region] = fields.ForeignKeyField(
        "models.Region", related_name="kims", on_delete=fields.RESTRICT
    )
    region_id: str
    decree_number = fields.CharField(max_length=100, null=True)
    established_on = fields.DateField(null=True)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "kim"
        unique_together = (("region", "name"),)


class KimMember(Model):
    """A person holding an office in a KIM."""

    id = fields.IntField(primary_key=True)
    kim: fields.ForeignKeyRelation[Kim] = fields.ForeignKeyField(
        "models.Kim", related_name="members", on_delete=fields.CASCADE
    )
    kim_id: int
    name = fields.CharField(max_length=200)
    role = fields.CharEnumField(KimRole, max_length=10)
    created_at = fields.DatetimeField()

    class Meta:
        table = "kim_member"
