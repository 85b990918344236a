"""`node(id:)`: any public Node by its opaque global id."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

import strawberry

from kimgraph.context import Info
from kimgraph.cursors import key_id, parse_id
from kimgraph.regions.codes import InvalidRegionCode, validate
from resolvers.aspirations import aspiration_node
from schema.common import Node
from schema.kims import KimMember, load_kim
from schema.regions import REGION_TYPES, load_region


async def _region(info: Info, type_name: str, key: str) -> Node | None:
    try:
        validate(key)
    except InvalidRegionCode:
        return None  # no region has it, and the column cannot hold every string
    region = await load_region(info, key)
    # A region's id names its level's type: "Desa:61.04.16" is no Desa.
    return region if type(region).__name__ == type_name else None


async def _kim(info: Info, type_name: str, key: str) -> Node | None:
    kim_id = key_id(key)
    return await load_kim(info, kim_id) if kim_id is not None else None


async def _kim_member(info: Info, type_name: str, key: str) -> Node | None:
    member_id = key_id(key)
    row = (
        await info.context.loaders.kim_members_by_id.load(member_id)
        if member_id is not None
        else None
    )
    return KimMember.from_model(row) if row is not None else None


_RESOLVERS: dict[str, Callable[[Info, str, str], Awaitable[Node | None]]] = {
    **{region_type.__name__: _region for region_type in REGION_TYPES},
    "Kim": _kim,
    "KimMember": _kim_member,
    "Aspiration": aspiration_node,
}


@strawberry.type
class NodeQueries:
    @strawberry.field(
        description="The object with this global id, or null if there is none "
        "(or the id is not one this server made)."
    )
    async def node(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="A Node's `id`.")],
    ) -> Node | None:
        decoded = parse_id(id)
        if decoded is None or decoded[0] not in _RESOLVERS:
            return None
        type_name, key = decoded
        return await _RESOLVERS[type_name](info, type_name, key)
