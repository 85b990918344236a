"""Units (perangkat daerah / OPD): the type, its connection, inputs and payloads."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Self

import strawberry

from kimgraph import models
from kimgraph.accounts.authorization import Action, Decision, decide
from kimgraph.context import Info
from kimgraph.cursors import CursorKind, encode_cursor, encode_id
from schema.accounts import Account
from schema.common import Connection, Node, UserError, connection, user_errors_field
from schema.regions import Region, region_of


@strawberry.type(
    description="A perangkat daerah (OPD) or office that aspirations are disposed "
    "to; it serves the aspirations of its region and below. Only its members (OFFICER "
    "accounts) take its steps (docs/aspiration-workflow.md)."
)
class Unit(Node):
    row: strawberry.Private[models.Unit]

    @strawberry.field(description="Opaque global id; pass it as `unitId`.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(encode_id("Unit", self.row.id))

    @strawberry.field(description="Its name, e.g. 'Dinas PUPR', 1-200 characters.")
    def name(self) -> str:
        return self.row.name

    @strawberry.field(description="The region whose aspirations it serves.")
    async def region(self, info: Info) -> Region:
        return await region_of(info, self.row.region_id)

    @strawberry.field(
        description="When it was archived: it takes no new dispositions; null "
        "while in use."
    )
    def archived_at(self) -> datetime | None:
        return self.row.archived_at

    @strawberry.field(
        description="Its member accounts, in the order they were added; null "
        "unless the viewer is an ADMIN whose scope holds the unit's region."
    )
    async def members(self, info: Info) -> list[Account] | None:
        principal = info.context.principal
        if (
            decide(principal, Action.UNIT_MANAGE, self.row.region_id)
            is not Decision.ALLOW
        ):
            return None
        rows = await info.context.loaders.unit_members_by_id.load(self.row.id)
        return [Account.from_model(row) for row in rows]

    @classmethod
    def connection_of(
        cls, rows: Sequence[models.Unit], has_next_page: bool, total: int
    ) -> Connection[Self]:
        """A page of unit rows, in id order, as a connection."""
        return connection(
            rows,
            has_next_page,
            total,
            cursor=lambda row: encode_cursor(CursorKind.UNIT, row.id),
            node=lambda row: cls(row=row),
        )


async def load_unit(info: Info, unit_id: int | None) -> Unit | None:
    """The unit with this id, through the operation's loader; None if none."""
    if unit_id is None:
        return None
    row = await info.context.loaders.units_by_id.load(unit_id)
    return Unit(row=row) if row is not None else None


@strawberry.input(description="A new unit.")
class UnitCreateInput:
    name: str = strawberry.field(
        description="Its name, 1-200 characters, unique in its region."
    )
    region: str = strawberry.field(
        description="Code of the region it serves (and everything below it), "
        "within the caller's scope."
    )


@strawberry.input(description="What to change of a unit.")
class UnitUpdateInput:
    name: str = strawberry.field(
        description="The new name, 1-200 characters, unique in its region. "
        "Aspirations already disposed keep the name they were given."
    )


@strawberry.type(description="The result of a unit mutation.")
class UnitPayload:
    unit: Unit | None = strawberry.field(
        default=None,
        description="The unit as changed; null if userErrors is not empty.",
    )
    user_errors: list[UserError] = user_errors_field("Why nothing changed.")


@strawberry.type(description="The result of unitCreate.")
class UnitCreatePayload(UnitPayload):
    pass


@strawberry.type(description="The result of unitUpdate.")
class UnitUpdatePayload(UnitPayload):
    pass


@strawberry.type(description="The result of unitMemberAdd.")
class UnitMemberAddPayload(UnitPayload):
    pass


@strawberry.type(description="The result of unitMemberRemove.")
class UnitMemberRemovePayload(UnitPayload):
    pass


@strawberry.type(description="The result of unitArchive.")
class UnitArchivePayload(UnitPayload):
    pass
