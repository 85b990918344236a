"""KIM types: the registry of community information groups."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import date, datetime
from typing import Self

import strawberry

from kimgraph import models
from kimgraph.context import Info
from kimgraph.cursors import CursorKind, encode_cursor, encode_id
from schema.common import Connection, Node, UserError, connection, user_errors_field
from schema.regions import Region, region_of


@strawberry.enum(description="A member's office in a KIM.")
class KimRole(enum.Enum):
    KETUA = strawberry.enum_value(
        "KETUA",
        description="Chair; a KIM is registered with one and keeps one, never two.",
    )
    SEKRETARIS = strawberry.enum_value(
        "SEKRETARIS",
        description="Secretary; a KIM is registered with one and keeps one.",
    )
    BENDAHARA = strawberry.enum_value(
        "BENDAHARA",
        description="Treasurer; a KIM is registered with one and keeps one.",
    )
    ANGGOTA = strawberry.enum_value("ANGGOTA", description="Member.")

    @property
    def domain(self) -> models.KimRole:
        """The same role as kimgraph spells it."""
        return models.KimRole[self.name]


@strawberry.type(description="A person holding an office in a KIM.")
class KimMember(Node):
    key: strawberry.Private[int]
    name: str = strawberry.field(description="The member's name.")
    role: KimRole = strawberry.field(description="The member's office.")

    @strawberry.field(
        description="Opaque global id; pass it to `kimMemberRemove` or as "
        "`kimMemberAdd(replaces:)`."
    )
    def id(self) -> strawberry.ID:
        return strawberry.ID(encode_id("KimMember", self.key))

    @classmethod
    def from_model(cls, row: models.KimMember) -> Self:
        """This type filled from a member row."""
        return cls(key=row.id, name=row.name, role=KimRole[row.role.name])


@strawberry.type(
    description="A Kelompok Informasi Masyarakat: a community group that spreads "
    "government information in its desa and carries aspirations up."
)
class Kim(Node):
    key: strawberry.Private[int]
    region_code: strawberry.Private[str]
    name: str = strawberry.field(description="The KIM's name, e.g. 'KIM Sungai Putri'.")
    decree_number: str | None = strawberry.field(
        description="Number of the decree (SK) that formed it, e.g. "
        "'470/kominfo-b/2018'; null if not recorded."
    )
    established_on: date | None = strawberry.field(
        description="Date of the decree; null if not recorded."
    )
    created_at: datetime = strawberry.field(description="When it was registered here.")
    updated_at: datetime = strawberry.field(description="When it last changed.")

    @strawberry.field(description="Opaque global id; pass it to `node(id:)`.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(encode_id("Kim", self.key))

    @strawberry.field(description="The desa/kelurahan (or kecamatan) the KIM serves.")
    async def region(self, info: Info) -> Region:
        return await region_of(info, self.region_code)

    @strawberry.field(
        description="Its members: ketua, sekretaris, bendahara, then anggota."
    )
    async def members(self, info: Info) -> list[KimMember]:
        rows = await info.context.loaders.kim_members_by_kim_id.load(self.key)
        return [KimMember.from_model(row) for row in rows]

    @classmethod
    def from_model(cls, row: models.Kim) -> Self:
        """This type filled from a KIM row."""
        return cls(
            key=row.id,
            region_code=row.region_id,
            name=row.name,
            decree_number=row.decree_number,
            established_on=row.established_on,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    @classmethod
    def connection_of(
        cls, rows: Sequence[models.Kim], has_next_page: bool, total: int
    ) -> Connection[Self]:
        """A page of KIM rows, in id order, as a connection."""
        return connection(
            rows,
            has_next_page,
            total,
            cursor=lambda row: encode_cursor(CursorKind.KIM, row.id),
            node=cls.from_model,
        )


async def load_kim(info: Info, kim_id: int | None) -> Kim | None:
    """The KIM with this id, through the operation's loader; None if none."""
    if kim_id is None:
        return None
    row = await info.context.loaders.kims_by_id.load(kim_id)
    return Kim.from_model(row) if row is not None else None


@strawberry.input(description="A member to add to a KIM.")
class KimMemberInput:
    name: str = strawberry.field(description="The member's name, 1-200 characters.")
    role: KimRole = strawberry.field(description="The member's office.")


@strawberry.input(description="A new KIM.")
class KimRegisterInput:
    name: str = strawberry.field(description="1-200 characters, unique in its region.")
    region: str = strawberry.field(
        description="Code of the desa, kelurahan or kecamatan it serves."
    )
    decree_number: str | None = strawberry.field(
        default=None, description="SK number, at most 100 characters."
    )
    established_on: date | None = strawberry.field(
        default=None, description="Date of the SK; not in the future."
    )
    members: list[KimMemberInput] = strawberry.field(
        default_factory=list,
        description="Its first members: at least one KETUA, SEKRETARIS and "
        "BENDAHARA, at most one KETUA.",
    )


@strawberry.input(description="Changes to a KIM; omitted fields stay as they are.")
class KimUpdateInput:
    name: str | None = strawberry.field(
        default=strawberry.UNSET, description="New name; null is not allowed."
    )
    decree_number: str | None = strawberry.field(
        default=strawberry.UNSET, description="New SK number; null clears it."
    )
    established_on: date | None = strawberry.field(
        default=strawberry.UNSET, description="New SK date; null clears it."
    )


@strawberry.type(description="The result of kimRegister.")
class KimRegisterPayload:
    kim: Kim | None = strawberry.field(
        default=None, description="The new KIM; null if userErrors is not empty."
    )
    user_errors: list[UserError] = user_errors_field("Why nothing was registered.")


@strawberry.type(description="The result of kimUpdate.")
class KimUpdatePayload:
    kim: Kim | None = strawberry.field(
        default=None, description="The changed KIM; null if userErrors is not empty."
    )
    user_errors: list[UserError] = user_errors_field("Why nothing changed.")


@strawberry.type(description="The result of kimMemberAdd.")
class KimMemberAddPayload:
    kim: Kim | None = strawberry.field(
        default=None, description="The KIM with its new member; null on userErrors."
    )
    member: KimMember | None = strawberry.field(
        default=None, description="The new member; null on userErrors."
    )
    user_errors: list[UserError] = user_errors_field("Why no member was added.")


@strawberry.type(description="The result of kimMemberRemove.")
class KimMemberRemovePayload:
    kim: Kim | None = strawberry.field(
        default=None, description="The KIM without the member; null on userErrors."
    )
    user_errors: list[UserError] = user_errors_field("Why nothing was removed.")
