"""Units (perangkat daerah / OPD): the list, and their management by ADMIN."""

from __future__ import annotations

from typing import Annotated

import strawberry

from kimgraph.context import Info
from kimgraph.cursors import CursorKind, decode_cursor, decode_id, key_id, row_id
from kimgraph.units import management
from schema.common import (
    DEFAULT_PAGE_SIZE,
    After,
    Connection,
    First,
    Node,
    mutation,
    page_size,
)
from schema.units import (
    Unit,
    UnitArchivePayload,
    UnitCreateInput,
    UnitCreatePayload,
    UnitMemberAddPayload,
    UnitMemberRemovePayload,
    UnitUpdateInput,
    UnitUpdatePayload,
    load_unit,
)

UnitId = Annotated[strawberry.ID, strawberry.argument(description="The unit's id.")]
MemberId = Annotated[
    strawberry.ID,
    strawberry.argument(description="The global id of an OFFICER account."),
]


async def unit_node(info: Info, type_name: str, key: str) -> Node | None:
    """`node(id:)` for a Unit: anyone may read a unit's name and region.

    Unit names are public already, as every aspiration's assignedUnit.
    """
    return await load_unit(info, key_id(key))


@strawberry.type
class UnitQueries:
    @strawberry.field(
        description="Units in use that serve any part of a region (their region "
        "holds it, or lies within it), oldest first; signed-in callers only, "
        "within their scope (their whole scope without `region`). Dispose an "
        "aspiration to one whose region holds the aspiration's."
    )
    async def units(
        self,
        info: Info,
        region: Annotated[
            str | None,
            strawberry.argument(description="A region's code; null: your scope."),
        ] = None,
        first: First = DEFAULT_PAGE_SIZE,
        after: After = None,
    ) -> Connection[Unit]:
        rows, has_next, total = await management.unit_page(
            info.context.principal,
            region,
            decode_cursor(CursorKind.UNIT, after, row_id),
            page_size(first),
        )
        return Unit.connection_of(rows, has_next, total)


@strawberry.type
class UnitMutations:
    @mutation(
        "Create a unit (ADMIN, for a region within its scope). Its members take "
        "the steps of the aspirations disposed to it."
    )
    async def unit_create(
        self,
        info: Info,
        input: Annotated[
            UnitCreateInput, strawberry.argument(description="Name and region.")
        ],
    ) -> UnitCreatePayload:
        row = await management.create(
            info.context.clock, info.context.principal, input.name, input.region
        )
        return UnitCreatePayload(unit=Unit(row=row))

    @mutation("Rename a unit (ADMIN, within its region).")
    async def unit_update(
        self,
        info: Info,
        id: UnitId,
        input: Annotated[
            UnitUpdateInput, strawberry.argument(description="What to change.")
        ],
    ) -> UnitUpdatePayload:
        row = await management.rename(
            info.context.clock,
            info.context.principal,
            decode_id("Unit", id),
            input.name,
        )
        return UnitUpdatePayload(unit=Unit(row=row))

    @mutation(
        "Add an OFFICER account to a unit (ADMIN, with the unit and the account "
        "in its scope). It acts as the unit from its next request on; an open "
        "WebSocket keeps what it was when it opened."
    )
    async def unit_member_add(
        self, info: Info, id: UnitId, account_id: MemberId
    ) -> UnitMemberAddPayload:
        row = await management.add_member(
            info.context.clock,
            info.context.principal,
            decode_id("Unit", id),
            decode_id("Account", account_id),
        )
        return UnitMemberAddPayload(unit=Unit(row=row))

    @mutation(
        "Remove an account from a unit (ADMIN, with the unit and the account in "
        "its scope), from its next request on."
    )
    async def unit_member_remove(
        self, info: Info, id: UnitId, account_id: MemberId
    ) -> UnitMemberRemovePayload:
        row = await management.remove_member(
            info.context.clock,
            info.context.principal,
            decode_id("Unit", id),
            decode_id("Account", account_id),
        )
        return UnitMemberRemovePayload(unit=Unit(row=row))

    @mutation(
        "Archive a unit (ADMIN, within its region): it takes no new dispositions "
        "and its name stays on the aspirations it handled. Refused while an open "
        "aspiration is disposed to it. Again is harmless."
    )
    async def unit_archive(self, info: Info, id: UnitId) -> UnitArchivePayload:
        row = await management.archive(
            info.context.clock, info.context.principal, decode_id("Unit", id)
        )
        return UnitArchivePayload(unit=Unit(row=row))
