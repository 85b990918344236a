"""`node(id:)`: any Node by its opaque global id."""

from __future__ import annotations

from typing import Annotated

import strawberry

from kimgraph.context import Info
from schema.common import Node, decode_global_id
from schema.regions import REGION_TYPES, region_from_model

_REGION_TYPE_NAMES = frozenset(t.__name__ for t in REGION_TYPES)


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
        decoded = decode_global_id(id)
        if decoded is None:
            return None
        type_name, key = decoded
        if type_name in _REGION_TYPE_NAMES:
            row = await info.context.loaders.regions_by_code.load(key)
            if row is None:
                return None
            region = region_from_model(row)
            return region if type(region).__name__ == type_name else None
        return None
