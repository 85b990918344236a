"""Region types: the kabupaten → kecamatan → desa/kelurahan hierarchy as a graph."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Self

import strawberry

from kimgraph import models, regions
from kimgraph.announcements.boards import BoardKey
from kimgraph.announcements.queries import read_page_key
from kimgraph.announcements.visibility import Reader
from kimgraph.context import Info
from kimgraph.cursors import CursorKind, decode_cursor, encode_cursor, encode_id, row_id
from schema.common import (
    DEFAULT_PAGE_SIZE,
    After,
    Connection,
    First,
    Node,
    connection,
    loaded_page,
    page_size,
    schema_type,
)

# schema.kims and schema.announcements import this module, so the two fields
# here that return their types name them lazily and take the classes from the
# running schema (schema_type): imports between schema modules run one way.
if TYPE_CHECKING:
    from schema.announcements import AnnouncementConnection
    from schema.kims import Kim


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
        return strawberry.ID(encode_id(type(self).__name__, self.code))

    @strawberry.field(
        description="The region directly above this one; null for a provinsi."
    )
    async def parent(self, info: Info) -> Region | None:
        return await load_region(info, self.parent_code)

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
        limit = page_size(first)
        after_code = decode_cursor(CursorKind.REGION, after, str)
        rows = await info.context.loaders.region_children_by_code.load(self.code)
        return region_connection(*loaded_page(rows, after_code, limit, key=_code))

    @strawberry.field(
        description="KIM serving this region or a region below it, oldest first."
    )
    async def kims(
        self,
        info: Info,
        first: First = DEFAULT_PAGE_SIZE,
        after: After = None,
    ) -> Connection[Annotated[Kim, strawberry.lazy("schema.kims")]]:
        kim: type[Kim] = schema_type(info, "Kim")
        limit = page_size(first)
        after_id = decode_cursor(CursorKind.KIM, after, row_id)
        rows = await info.context.loaders.kims_within_code.load(self.code)
        return kim.connection_of(*loaded_page(rows, after_id, limit, key=_id))

    @strawberry.field(
        description="Announcements visible here: targeted at this region or a "
        "region above it, EMERGENCY first, then newest. Scheduled ones (before "
        "validFrom) only for their publisher and staff over one of their targets."
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
        announcement_connection: type[AnnouncementConnection]
        announcement_connection = schema_type(info, "AnnouncementConnection")
        key = BoardKey(
            region=self.code,
            active_only=active_only,
            now=info.context.clock.now(),
            after=decode_cursor(CursorKind.ANNOUNCEMENT, after, read_page_key),
            limit=page_size(first),
            reader=Reader.of(info.context.principal),
        )
        page = await info.context.loaders.boards_by_key.load(key)
        return announcement_connection.of(page)


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
    parent = await region_of(info, region.parent_code)
    assert isinstance(parent, Kecamatan), "a desa or kelurahan is in a kecamatan"
    return parent


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


async def load_region(info: Info, code: str | None) -> Region | None:
    """The region with this code, through the operation's loader; None if none."""
    if code is None:
        return None
    row = await info.context.loaders.regions_by_code.load(code)
    return region_from_model(row) if row is not None else None


async def region_of(info: Info, code: str) -> Region:
    """The region a row's foreign key names, which therefore exists."""
    region = await load_region(info, code)
    assert region is not None, "the region foreign key guarantees it exists"
    return region


def _code(row: models.Region) -> str:
    return row.code


def _id(row: models.Kim) -> int:
    return row.id


def region_connection(
    rows: Sequence[models.Region], has_next_page: bool, total: int
) -> Connection[Region]:
    """A page of regions, in code order, as a connection."""
    return connection(
        rows,
        has_next_page,
        total,
        cursor=lambda row: encode_cursor(CursorKind.REGION, row.code),
        node=region_from_model,
    )
