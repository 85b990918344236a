"""The KIM registry: list, register, update, and manage members (docs/domain.md)."""

from __future__ import annotations

from typing import Annotated, TypeVar

import strawberry

from kimgraph import kims, regions
from kimgraph.context import Info
from kimgraph.cursors import CursorKind, decode_cursor, decode_id, row_id
from kimgraph.kims.queries import kim_page
from schema.common import (
    DEFAULT_PAGE_SIZE,
    After,
    Connection,
    First,
    mutation,
    page_size,
)
from schema.kims import (
    Kim,
    KimMember,
    KimMemberAddPayload,
    KimMemberInput,
    KimMemberRemovePayload,
    KimRegisterInput,
    KimRegisterPayload,
    KimUpdateInput,
    KimUpdatePayload,
)

T = TypeVar("T")


@strawberry.type
class KimQueries:
    @strawberry.field(
        description="KIM serving a region or a region below it (all KIM without "
        "`region`), oldest first. An unknown `region` is a NOT_FOUND error."
    )
    async def kims(
        self,
        region: Annotated[
            str | None,
            strawberry.argument(description="Code of the region; null for all KIM."),
        ] = None,
        first: First = DEFAULT_PAGE_SIZE,
        after: After = None,
    ) -> Connection[Kim]:
        rows, has_next, total = await kim_page(
            regions.validate(region) if region is not None else None,
            decode_cursor(CursorKind.KIM, after, row_id),
            page_size(first),
        )
        return Kim.connection_of(rows, has_next, total)


def _given(value: T | None) -> T | None:
    """The value of an optional input field, None when omitted or null."""
    return None if value is strawberry.UNSET else value


def _member(member: KimMemberInput) -> kims.MemberInput:
    return kims.MemberInput(name=member.name, role=member.role.domain)


@strawberry.type
class KimMutations:
    @mutation("Register a KIM in a region within the caller's scope.")
    async def kim_register(
        self,
        info: Info,
        input: Annotated[
            KimRegisterInput, strawberry.argument(description="The new KIM.")
        ],
    ) -> KimRegisterPayload:
        row = await kims.register_kim(
            info.context.clock,
            info.context.principal,
            name=input.name,
            region_code=input.region,
            decree_number=input.decree_number,
            established_on=input.established_on,
            members=[_member(m) for m in input.members],
        )
        return KimRegisterPayload(kim=Kim.from_model(row))

    @mutation(
        "Change a KIM's name, decree number or founding date (ADMIN or OFFICER in "
        "scope, or the KIM's own account; another KIM is FORBIDDEN)."
    )
    async def kim_update(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The KIM's id.")],
        input: Annotated[
            KimUpdateInput, strawberry.argument(description="What to change.")
        ],
    ) -> KimUpdatePayload:
        changes = kims.KimChanges(
            # An explicit null name is checked like an empty one: it is refused.
            name=None if input.name is strawberry.UNSET else input.name or "",
            decree_number=_given(input.decree_number),
            clear_decree_number=input.decree_number is None,
            established_on=_given(input.established_on),
            clear_established_on=input.established_on is None,
        )
        row = await kims.update_kim(
            info.context.clock, info.context.principal, decode_id("Kim", id), changes
        )
        return KimUpdatePayload(kim=Kim.from_model(row))

    @mutation(
        "Add a member to a KIM, or hand an office over with `replaces`; a KIM has "
        "at most one KETUA and keeps its KETUA, SEKRETARIS and BENDAHARA (ADMIN or "
        "OFFICER in scope, or the KIM's own account). See docs/domain.md, 'KIM'."
    )
    async def kim_member_add(
        self,
        info: Info,
        kim_id: Annotated[
            strawberry.ID, strawberry.argument(description="The KIM's id.")
        ],
        input: Annotated[
            KimMemberInput, strawberry.argument(description="The new member.")
        ],
        replaces: Annotated[
            strawberry.ID | None,
            strawberry.argument(
                description="A member of this KIM who leaves as the new one "
                "joins, in one step: how the ketua (or the last sekretaris or "
                "bendahara) hands the office over. Null: nobody leaves. An id "
                "that names no member of this KIM is NOT_FOUND."
            ),
        ] = None,
    ) -> KimMemberAddPayload:
        kim, member = await kims.add_member(
            info.context.clock,
            info.context.principal,
            decode_id("Kim", kim_id),
            _member(input),
            kims.Replacing(decode_id("KimMember", replaces))
            if replaces is not None
            else None,
        )
        return KimMemberAddPayload(
            kim=Kim.from_model(kim), member=KimMember.from_model(member)
        )

    @mutation(
        "Remove a member from its KIM (ADMIN or OFFICER in scope, or the KIM's own "
        "account). The last KETUA, SEKRETARIS or BENDAHARA stays: INVALID; hand "
        "the office over with `kimMemberAdd(replaces:)`."
    )
    async def kim_member_remove(
        self,
        info: Info,
        id: Annotated[
            strawberry.ID, strawberry.argument(description="The member's id.")
        ],
    ) -> KimMemberRemovePayload:
        kim = await kims.remove_member(
            info.context.clock, info.context.principal, decode_id("KimMember", id)
        )
        return KimMemberRemovePayload(kim=Kim.from_model(kim))
