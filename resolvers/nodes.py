"""`node(id:)`: any Node by its opaque global id, as its own query shows it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

import strawberry

from kimgraph import models
from kimgraph.accounts.authorization import Action, Decision, decide, in_scope
from kimgraph.context import Info
from kimgraph.cursors import key_id, parse_id
from kimgraph.regions.codes import InvalidRegionCode, validate
from resolvers.accounts import account_node
from resolvers.announcements import announcement_node
from resolvers.aspirations import aspiration_node
from resolvers.units import unit_node
from schema.accounts import ApiKey
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


async def _api_key(info: Info, type_name: str, key: str) -> Node | None:
    """The same keys as `apiKeys` shows: to an ADMIN, those in its region."""
    principal = info.context.principal
    key_number = key_id(key)
    if (
        key_number is None
        or decide(principal, Action.API_KEY_READ, None) is not Decision.ALLOW
    ):
        return None
    row = await models.ApiKey.get_or_none(id=key_number)
    if row is None or not in_scope(principal, row.region_id):
        return None
    return ApiKey.from_model(row)


# Every type that implements Node (a test checks the schema has no other).
RESOLVERS_BY_TYPE: dict[str, Callable[[Info, str, str], Awaitable[Node | None]]] = {
    **{region_type.__name__: _region for region_type in REGION_TYPES},
    "Kim": _kim,
    "KimMember": _kim_member,
    "Announcement": announcement_node,
    "Aspiration": aspiration_node,
    "ApiKey": _api_key,
    "Account": account_node,
    "Unit": unit_node,
}


@strawberry.type
class NodeQueries:
    @strawberry.field(
        description="The object with this global id, or null if there is none, "
        "the caller may not read it (as its own query decides), or the id is not "
        "one this server made."
    )
    async def node(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="A Node's `id`.")],
    ) -> Node | None:
        decoded = parse_id(id)
        if decoded is None or decoded[0] not in RESOLVERS_BY_TYPE:
            return None
        type_name, key = decoded
        return await RESOLVERS_BY_TYPE[type_name](info, type_name, key)
