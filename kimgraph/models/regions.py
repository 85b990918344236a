"""Regions: Kemendagri reference data, never edited through the API."""

from __future__ import annotations

import enum

from tortoise import fields
from tortoise.models import Model


class RegionLevel(enum.StrEnum):
    """Administrative level, as spelled in the Kemendagri CSV files."""

    PROVINSI = "provinsi"
    KABUPATEN = "kabupaten"
    KOTA = "kota"
    KECAMATAN = "kecamatan"
    KELURAHAN = "kelurahan"
    DESA = "desa"


class Region(Model):
    """A provinsi, kabupaten/kota, kecamatan or desa/kelurahan."""

    code = fields.CharField(max_length=13, primary_key=True)
    parent: fields.ForeignKeyNullableRelation[Region] = fields.ForeignKeyField(
        "models.Region",
        related_name="children",
        null=True,
        on_delete=fields.RESTRICT,
        to_field="code",
        db_constraint=True,
        db_index=True,
    )
    parent_id: str | None
    level = fields.CharEnumField(RegionLevel, max_length=9)
    name = fields.CharField(max_length=120)
    # Case- and accent-folded name: the column `regions(search:)` scans.
    search_name = fields.CharField(max_length=120)

    class Meta:
        table = "region"
        indexes = (("level", "code"),)

    def __str__(self) -> str:
        return f"{self.code} {self.name}"
