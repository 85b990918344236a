"""Region types: the kabupaten → kecamatan → desa/kelurahan hierarchy as a graph."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Self

import strawberry

from kimgraph import models, regions
from kimgraph.announcements.queries import AnnouncementFilter
from kimgraph.context import Info
from schema.common import (
    DEFAULT_PAGE_SIZE,
    After,
    Connection,
    Edge,
    First,
    Node,
    PageInfo,
    decode_cursor,
    encode_cursor,
    encode_global_id,
    page_size,
)

if TYPE_CHECKING:
    from schema.announcements import AnnouncementConnection
    from schema.kims import Kim

REGION_CURSOR = "region"


@strawberry.enum(description="Administrative level of a region.")
class RegionLevel(enum.Enum):
    PROVINSI = strawberry.enum_value(
        regions.RegionLevel.PROVINSI.value, description="A province (2-digit code)."
    )
    KABUPATEN = strawberry.enum_value(
        regions.RegionLevel.KABUPATEN.value,
        description="A regency; second code segment 01-69.",
    )
    KOTA = strawberry.enum_value(
        regions.RegionLevel.KOTA.value, description="A city; second code segment 71-99."
    )
    KECAMATAN = strawberry.enum_value(
        regions.RegionLevel.KECAMATAN.value,
        description="A district of a kabupaten or kota (3 segments).",
    )
    KELURAHAN = strawberry.enum_value(
        regions.RegionLevel.KELURAHAN.value,
        description="An urban village; fourth segment starts with 1.",
    )
    DESA = strawberry.enum_value(
        regions.RegionLevel.DESA.value,
        description="A village; fourth segment starts with 2 (or 3, desa adat).",
    )

    @property
    def domain(self) -> regions.RegionLevel:
        """The same level as kimgraph spells it."""
        return regions.RegionLevel[self.name]


@strawberry.interface(
    description="A region of Indonesia's administrative hierarchy, addressed by its "
    "Kemendagri code."
)
class Region(Node):
    code: str = strawberry.field(
        description="Dotted Kemendagri code, e.g. '61.04' or '61.04.16.1001'."
    )
    name: str = strawberry.field(
        description="Official name, e.g. 'Kabupaten Ketapang' or 'Delta Pawan'."
    )
    level: RegionLevel = strawberry.field(description="Administrative level.")
    parent_code: strawberry.Private[str | None]

    @classmethod
    def from_model(cls, row: models.Region) -> Self:
        """This type filled from a region row."""
        return cls(
            code=row.code,
            name=row.name,
            level=RegionLevel(row.level.value),
            parent_code=row.parent_id,
        )

    @strawberry.field(description="Opaque global id; pass it to `node(id:)`.")
    def id(self) -> strawberry.ID:
        return encode_global_id(type(self).__name__, self.code)

    @strawberry.field(
        description="The region directly above this one; null for a provinsi."
    )
    async def parent(self, info: Info) -> Region | None:
        if self.parent_code is None:
            return None
        row = await info.context.loaders.regions_by_code.load(self.parent_code)
        return region_from_model(row) if row is not None else None

    @strawberry.field(
        description="Every region above this one, outermost (the provinsi) first."
    )
    async def ancestors(self, info: Info) -> list[Region]:
        loaded = await info.context.loaders.regions_by_code.load_many(
            regions.ancestors_of(self.code)
        )
        return [region_from_model(row) for row in loaded if row is not None]

    @strawberry.field(description="The regions directly below this one, by code.")
    async def children(
        self,
        info: Info,
        first: First = DEFAULT_PAGE_SIZE,
        after: After = None,
    ) -> Connection[Region]:
        rows = await info.context.loaders.region_children_by_code.load(self.code)
        return region_connection_from_list(rows, first, after)

    @strawberry.field(
        description="KIM serving this region or a region below it, oldest first."
    )
    async def kims(
        self,
        info: Info,
        first: First = DEFAULT_PAGE_SIZE,
        after: After = None,
    ) -> Connection[Annotated[Kim, strawberry.lazy("schema.kims")]]:
        from schema.kims import kim_connection_from_list

        rows = await info.context.loaders.kims_within_code.load(self.code)
        return kim_connection_from_list(rows, first, after)

    @strawberry.field(
        description="Announcements visible here: targeted at this region or a "
        "region above it, EMERGENCY first, then newest."
    )
    async def announcements(
        self,
        info: Info,
        first: First = DEFAULT_PAGE_SIZE,
        after: After = None,
        active_only: Annotated[
            bool, strawberry.argument(description="Only ACTIVE ones (the default).")
        ] = True,
    ) -> Annotated[AnnouncementConnection, strawberry.lazy("schema.announcements")]:
        from schema.announcements import announcements_page

        where = AnnouncementFilter(region=self.code, active_only=active_only)
        return await announcements_page(info, where, first, after)


async def _children(
    region: Region, info: Info, level: regions.RegionLevel
) -> list[models.Region]:
    rows = await info.context.loaders.region_children_by_code.load(region.code)
    return [row for row in rows if row.level == level]


@strawberry.type(description="A provinsi.")
class Provinsi(Region):
    @strawberry.field(description="Its kabupaten and kota, by code.")
    async def kabupaten_kota(self, info: Info) -> list[Region]:
        rows = await info.context.loaders.region_children_by_code.load(self.code)
        return [region_from_model(row) for row in rows]


@strawberry.type(description="A kabupaten (regency).")
class Kabupaten(Region):
    @strawberry.field(description="Its kecamatan, by code.")
    async def kecamatan(self, info: Info) -> list[Kecamatan]:
        rows = await _children(self, info, regions.RegionLevel.KECAMATAN)
        return [Kecamatan.from_model(row) for row in rows]


@strawberry.type(description="A kota (city).")
class Kota(Region):
    @strawberry.field(description="Its kecamatan, by code.")
    async def kecamatan(self, info: Info) -> list[Kecamatan]:
        rows = await _children(self, info, regions.RegionLevel.KECAMATAN)
        return [Kecamatan.from_model(row) for row in rows]


@strawberry.type(description="A kecamatan (district).")
class Kecamatan(Region):
    @strawberry.field(description="Its desa, by code.")
    async def desa(self, info: Info) -> list[Desa]:
        rows = await _children(self, info, regions.RegionLevel.DESA)
        return [Desa.from_model(row) for row in rows]

    @strawberry.field(description="Its kelurahan, by code.")
    async def kelurahan(self, info: Info) -> list[Kelurahan]:
        rows = await _children(self, info, regions.RegionLevel.KELURAHAN)
        return [Kelurahan.from_model(row) for row in rows]


async def _kecamatan_of(region: Region, info: Info) -> Kecamatan:
    assert region.parent_code is not None, "a desa or kelurahan always has a parent"
    row = await info.context.loaders.regions_by_code.load(region.parent_code)
    assert row is not None, "the region foreign key guarantees the parent exists"
    return Kecamatan.from_model(row)


@strawberry.type(description="A kelurahan (urban village).")
class Kelurahan(Region):
    @strawberry.field(description="The kecamatan it belongs to.")
    async def kecamatan(self, info: Info) -> Kecamatan:
        return await _kecamatan_of(self, info)


@strawberry.type(description="A desa (village), including desa adat.")
class Desa(Region):
    @strawberry.field(description="The kecamatan it belongs to.")
    async def kecamatan(self, info: Info) -> Kecamatan:
        return await _kecamatan_of(self, info)


_TYPE_BY_LEVEL: dict[regions.RegionLevel, type[Region]] = {
    regions.RegionLevel.PROVINSI: Provinsi,
    regions.RegionLevel.KABUPATEN: Kabupaten,
    regions.RegionLevel.KOTA: Kota,
    regions.RegionLevel.KECAMATAN: Kecamatan,
    regions.RegionLevel.KELURAHAN: Kelurahan,
    regions.RegionLevel.DESA: Desa,
}

REGION_TYPES: tuple[type[Region], ...] = tuple(_TYPE_BY_LEVEL.values())


def region_from_model(row: models.Region) -> Region:
    """The GraphQL type of a region row, chosen by its level."""
    return _TYPE_BY_LEVEL[row.level].from_model(row)


def region_connection(
    rows: Sequence[models.Region], has_next_page: bool, total: int
) -> Connection[Region]:
    """A connection page of regions keyed by code."""
    edges = [
        Edge(cursor=encode_cursor(REGION_CURSOR, row.code), node=region_from_model(row))
        for row in rows
    ]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=has_next_page,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        total_count=total,
    )


def region_connection_from_list(
    rows: Sequence[models.Region], first: int | None, after: str | None
) -> Connection[Region]:
    """A page of an already loaded, code-ordered list of regions."""
    limit = page_size(first)
    after_code = decode_cursor(REGION_CURSOR, after)
    remaining = [row for row in rows if after_code is None or row.code > after_code]
    return region_connection(remaining[:limit], len(remaining) > limit, len(rows))
